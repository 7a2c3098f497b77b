// Cold start: a fresh process importing the TypeScript sources the bundle is made from.
import "../../src/index.ts";
