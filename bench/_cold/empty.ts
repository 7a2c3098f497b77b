// Cold-start baseline: an empty script.
export {};
