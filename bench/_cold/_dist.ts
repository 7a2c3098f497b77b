import "../../dist/authlane.js";
