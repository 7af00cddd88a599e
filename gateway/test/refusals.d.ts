/** The field violations a channel mapping refuses a call with, as "field: description" texts. */
export declare function violations(call: () => unknown): string[];
//# sourceMappingURL=refusals.d.ts.map
