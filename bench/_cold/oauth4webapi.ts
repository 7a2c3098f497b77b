// Cold start: a fresh process importing oauth4webapi.
import "oauth4webapi";
