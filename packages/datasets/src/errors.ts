/**
 * Errors thrown by @chainrule/datasets. Each message starts with the name of the public
 * function that was called and names the file, line or byte offset involved, e.g.
 * `readIdx: /data/x.idx: truncated at byte offset 16: header says 784 bytes of data, file has 100`.
 */

/** An option or argument outside its domain: `DataLoader: batchSize must be a positive integer, got 0`. */
export class ArgumentError extends RangeError {
  /** Always 'ArgumentError'. */
  override name = 'ArgumentError';
}

/** Where in a file or text a format problem was found; fields are absent when they do not apply. */
export interface DataLocation {
  /** The file path, when the data came from a file. */
  readonly path?: string;
  /** 1-based line number in text input. */
  readonly line?: number;
  /** 0-based byte offset in binary input. */
  readonly offset?: number;
}

/** Content that does not follow its format: a wrong IDX magic number, a truncated file, a ragged CSV row. */
export class DataFormatError extends RangeError {
  /** Always 'DataFormatError'. */
  override name = 'DataFormatError';
  /** The file path, when the data came from a file. */
  readonly path: string | undefined;
  /** 1-based line number in text input. */
  readonly line: number | undefined;
  /** 0-based byte offset in binary input. */
  readonly offset: number | undefined;

  /**
   * An error with `message` and where it was found.
   * @param where - the file, line or byte offset the message speaks of.
   */
  constructor(message: string, where: DataLocation = {}) {
    super(message);
    this.path = where.path;
    this.line = where.line;
    this.offset = where.offset;
  }
}

/** A file that cannot be read (missing, a directory, no permission); `cause` holds Node's error. */
export class DataFileError extends RangeError {
  /** Always 'DataFileError'. */
  override name = 'DataFileError';
  /** The path that could not be read. */
  readonly path: string;

  /**
   * An error with `message` about `path`.
   * @param path - the path that could not be read.
   * @param cause - the underlying error (Node's ENOENT, EACCES...), kept as `cause`.
   */
  constructor(message: string, path: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.path = path;
  }
}
