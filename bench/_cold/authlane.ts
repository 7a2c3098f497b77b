// Cold start: a fresh process importing authlane.
import "../../mod.ts";
