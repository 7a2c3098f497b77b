// Cold start: a fresh process importing authlane as users do: the package's "." export,
// dist/authlane.js (typed by src/index.ts through @ts-self-types).
import "../../dist/authlane.js";
