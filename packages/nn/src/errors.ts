/**
 * Errors of @chainrule/nn beyond the engine's own (ShapeError, DTypeError, ArgumentError, which
 * nn reuses). Each message starts with the function or class that threw.
 */

/** A state dict that does not fit a module or optimiser; the message lists every offending key. @example try { model.loadStateDict(sd) } catch (e) { if (e instanceof StateDictError) ... } */
export class StateDictError extends RangeError {
  /** Always 'StateDictError'. */
  override name = 'StateDictError';
}

/** A safetensors file that is truncated, malformed, or uses a dtype chainrule cannot hold. @example expect(() => parseSafetensors(bytes.slice(0, 5))).toThrow(SafetensorsError) */
export class SafetensorsError extends RangeError {
  /** Always 'SafetensorsError'. */
  override name = 'SafetensorsError';
}
