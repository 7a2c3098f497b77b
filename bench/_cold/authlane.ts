// Cold start: a fresh process importing authlane as users do (mod.ts, which loads dist/authlane.js).
import "../../mod.ts";
