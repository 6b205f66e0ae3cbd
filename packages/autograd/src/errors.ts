/**
 * Errors thrown by chainrule. Each message starts with the op's name and names the shapes and
 * dtypes involved, e.g. `matmul: shapes [2,3] and [4,5] are not aligned (3 != 4)`.
 */

/** Shapes that do not fit together, or an axis, index or size out of range. */
export class ShapeError extends RangeError {
  /** Always 'ShapeError'. */
  override name = 'ShapeError';
}

/** Operands of different dtypes, or a dtype an op cannot take. */
export class DTypeError extends TypeError {
  /** Always 'DTypeError'. */
  override name = 'DTypeError';
}

/** Misuse of the graph: backward through a freed graph, a non-scalar backward without a gradient, and so on. */
export class GraphError extends TypeError {
  /** Always 'GraphError'. */
  override name = 'GraphError';
}

/** A NaN or Inf found by anomaly mode; the message names the op and where it was created. */
export class AnomalyError extends RangeError {
  /** Always 'AnomalyError'. */
  override name = 'AnomalyError';
}

/** An argument of the wrong kind or outside its domain (a negative learning rate, a NaN input to gradcheck). */
export class ArgumentError extends RangeError {
  /** Always 'ArgumentError'. */
  override name = 'ArgumentError';
}

/**
 * A linear-algebra input the op cannot factor: a singular matrix, one that is not
 * positive-definite. The message names the op and the batch element (PyTorch's
 * `torch.linalg.LinAlgError`).
 */
export class LinAlgError extends RangeError {
  /** Always 'LinAlgError'. */
  override name = 'LinAlgError';
}

/**
 * Something a jitted function does that its trace cannot capture: reading a traced tensor's
 * values (`.data`, `item()`, `toArray()`), a primitive whose result's shape depends on values
 * (nonzero, maskedSelect, unique), or a program whose replay no longer matches its trace.
 */
export class TraceError extends TypeError {
  /** Always 'TraceError'. */
  override name = 'TraceError';
}
