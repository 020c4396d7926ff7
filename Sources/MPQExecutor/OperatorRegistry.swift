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
        // Shape and data movement.
        "Flatten": FlattenOperator.self,
        "Reshape": ReshapeOperator.self,
        "Transpose": TransposeOperator.self,
        "Concat": ConcatOperator.self,
        "Squeeze": SqueezeOperator.self,
        "Unsqueeze": UnsqueezeOperator.self,
        "Pad": PadOperator.self,
        "ReduceMean": ReduceMeanOperator.self,
        "Identity": IdentityOperator.self,
        "Dropout": IdentityOperator.self,
        "Cast": CastOperator.self,
        "Constant": ConstantOperator.self,
    ]

    /// The operator type for a node, or an error naming the node, op type and opset and listing
    /// what is supported.
    public static func type(for node: Node, opset: Int) throws -> any Operator.Type {
        guard node.domain.isEmpty || node.domain == "ai.onnx", let type = operators[node.opType] else {
            throw GraphError.unsupportedOperator(node: node.displayName, opType: node.opType, domain: node.domain,
                                                 opset: opset, supported: Array(operators.keys))
        }
        return type
    }
}
