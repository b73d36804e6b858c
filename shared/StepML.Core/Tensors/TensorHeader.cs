namespace StepML.Core.Tensors;

public sealed record TensorHeader(int[] Shape, long ElementCount, long Round, int BlockElements, int BlockCount);
