/**
 * ONNX export. Browser-safe; an entry of its own so the main entry loads no protobuf code for
 * programs that never export. Files on disk: `saveOnnx` in '@chainrule/nn/node'.
 * @module @chainrule/nn/onnx
 */
export { exportOnnx, type ExportOnnxOptions, type OnnxDim } from './onnx/export.js';
export { OnnxExportError } from './onnx/layers.js';
