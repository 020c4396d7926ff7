import MPQGraph

/// The operators the executor implements, by ONNX op type (default domain).
public enum OperatorRegistry {
    /// Lowest default-domain opset the implementations are written for.
    public static let minimumOpset = 11
    /// Highest default-domain opset the implementations are written for.
    public static let maximumOpset = 21

    public static let operators: [String: any Operator.Type] = [
        // Linear algebra and convolution.
        "Conv": ConvOperator.self,
        "Gemm": GemmOperator.self,
        "MatMul": MatMulOperator.self,
        // Pooling.
        "MaxPool": MaxPoolOperator.self,
        "AveragePool": AveragePoolOperator.self,
        "GlobalAveragePool": GlobalAveragePoolOperator.self,
        // Element-wise arithmetic with broadcasting.
        "Add": BinaryOperator.self,
        "Sub": BinaryOperator.self,
        "Mul": BinaryOperator.self,
        "Div": BinaryOperator.self,
        "Pow": PowOperator.self,
        "Max": VariadicOperator.self,
        "Min": VariadicOperator.self,
        "Sum": VariadicOperator.self,
        "Mean": VariadicOperator.self,
        // Element-wise math.
        "Erf": ElementwiseMathOperator.self,
        "Sqrt": ElementwiseMathOperator.self,
        "Exp": ElementwiseMathOperator.self,
        "Log": ElementwiseMathOperator.self,
        "Reciprocal": ElementwiseMathOperator.self,
        "Floor": ElementwiseMathOperator.self,
        "Ceil": ElementwiseMathOperator.self,
        "Round": ElementwiseMathOperator.self,
        "Neg": ElementwiseMathOperator.self,
        "Abs": ElementwiseMathOperator.self,
        "Sign": ElementwiseMathOperator.self,
        "IsNaN": ElementwiseMathOperator.self,
        "IsInf": ElementwiseMathOperator.self,
        // Comparison, logic and selection.
        "Equal": ComparisonOperator.self,
        "Less": ComparisonOperator.self,
        "LessOrEqual": ComparisonOperator.self,
        "Greater": ComparisonOperator.self,
        "GreaterOrEqual": ComparisonOperator.self,
        "And": LogicalOperator.self,
        "Or": LogicalOperator.self,
        "Xor": LogicalOperator.self,
        "Not": LogicalOperator.self,
        "Where": WhereOperator.self,
        // Activations.
        "Relu": UnaryOperator.self,
        "Clip": ClipOperator.self,
        "LeakyRelu": UnaryOperator.self,
        "Sigmoid": UnaryOperator.self,
        "Tanh": UnaryOperator.self,
        "HardSigmoid": UnaryOperator.self,
        "HardSwish": UnaryOperator.self,
        "Softmax": SoftmaxOperator.self,
        "LogSoftmax": SoftmaxOperator.self,
        "BatchNormalization": BatchNormalizationOperator.self,
        "LayerNormalization": LayerNormalizationOperator.self,
        // Shape and data movement.
        "Flatten": FlattenOperator.self,
        "Reshape": ReshapeOperator.self,
        "Transpose": TransposeOperator.self,
        "Concat": ConcatOperator.self,
        "Squeeze": SqueezeOperator.self,
        "Unsqueeze": UnsqueezeOperator.self,
        "Pad": PadOperator.self,
        "Slice": SliceOperator.self,
        "Split": SplitOperator.self,
        "Gather": GatherOperator.self,
        "GatherND": GatherNDOperator.self,
        "Expand": ExpandOperator.self,
        "Tile": TileOperator.self,
        // Shape computations (folded to constants when the plan is compiled).
        "Shape": ShapeOperator.self,
        "Size": SizeOperator.self,
        "ConstantOfShape": ConstantOfShapeOperator.self,
        "Range": RangeOperator.self,
        // Reductions.
        "ReduceMean": ReduceOperator.self,
        "ReduceSum": ReduceOperator.self,
        "ReduceMax": ReduceOperator.self,
        "ReduceMin": ReduceOperator.self,
        "ReduceL1": ReduceOperator.self,
        "ReduceL2": ReduceOperator.self,
        "ReduceSumSquare": ReduceOperator.self,
        "Identity": IdentityOperator.self,
        "Dropout": IdentityOperator.self,
        "Cast": CastOperator.self,
        "Constant": ConstantOperator.self,
    ]

    /// Fused operators of the internal domain (`GraphOptimizer.internalDomain`), written by the graph optimizer.
    public static let internalOperators: [String: any Operator.Type] = [
        "Gelu": GeluOperator.self,
    ]

    /// The operator type for a node, or an error naming the node, op type and opset and listing
    /// what is supported.
    public static func type(for node: Node, opset: Int) throws -> any Operator.Type {
        if node.domain == GraphOptimizer.internalDomain, let type = internalOperators[node.opType] { return type }
        guard node.domain.isEmpty || node.domain == "ai.onnx", let type = operators[node.opType] else {
            throw GraphError.unsupportedOperator(node: node.displayName, opType: node.opType, domain: node.domain,
                                                 opset: opset, supported: Array(operators.keys))
        }
        return type
    }
}
