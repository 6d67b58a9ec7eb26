"""Explanations for learners: what a setting does, a sensible range, what extremes do.

Written in our own words, one or two sentences each, and kept with the
declarations: a Param's own `explanation` wins; layer parameters that mean
the same thing in every layer (units, kernel_size, rate, ...) share the
entry below under their name. Choices (activations, optimizers, losses,
metrics, initializers) are explained one by one. `Param.tooltip()` puts them
together; a test checks that every declared parameter has one.
"""

from __future__ import annotations

# Layer parameters by name. Names ending in _initializer or _regularizer are
# explained by WEIGHT_EXPLANATIONS below.
LAYER_PARAM_EXPLANATIONS: dict[str, str] = {
    "shape": "The size of one sample, without the batch: (64,) for 64 features, "
    "(28, 28, 1) for a grey 28x28 image. It must match the data, or training stops.",
    "dtype": "The number type the model reads. Keep float32 for measurements and pixels; "
    "use int32 only for whole-number ids that feed an Embedding.",
    "units": "How many neurons the layer has, i.e. how many numbers it outputs. Hidden layers "
    "usually have 16-512: too few cannot learn the pattern, too many learn slowly and overfit. "
    "An output layer needs one unit per class (or per predicted value).",
    "activation": "The function each output goes through. Hidden layers usually want relu "
    "(without one, stacked layers act like a single linear layer); a classifier's output "
    "wants softmax (or sigmoid for one unit), a regression output linear.",
    "recurrent_activation": "The function of the gates that decide what the memory keeps. "
    "Keep sigmoid, which gives values between 0 (forget) and 1 (keep).",
    "use_bias": "Whether each output gets a learned offset added. Keep it on; it is often off "
    "only right before a BatchNormalization, which adds its own offset.",
    "rate": "The share of inputs randomly set to 0 during training (never at prediction), so "
    "the network cannot rely on any single one. 0.1-0.5 is usual: higher fights overfitting "
    "but slows learning; too high and the network cannot learn.",
    "seed": "Fixes the randomness of this layer so runs repeat exactly. Leave empty for a "
    "different draw each run.",
    "target_shape": "The shape the values are rearranged into, without the batch; the number "
    "of values must stay the same. One entry may be -1 to let it be worked out.",
    "dims": "The new order of the dimensions, counted from 1 (the batch stays first): (2, 1) "
    "swaps the two axes of a sequence.",
    "n": "How many times the input vector is repeated, e.g. to turn one summary vector into a "
    "sequence of n steps for a decoder.",
    "input_dim": "How many different ids the data uses: the largest id + 1 (the vocabulary "
    "size). Too small and larger ids fail; larger only wastes memory.",
    "output_dim": "The length of the vector learned for each id. 8-300 is usual: small "
    "vectors hold little meaning, large ones need much data.",
    "mask_zero": "Treat id 0 as padding, so that later layers skip those steps. Only works if "
    "0 is never a real id.",
    "mask_value": "Steps whose values all equal this are skipped by later layers (padding).",
    "filters": "How many different patterns the layer looks for: the number of output "
    "channels. 16-64 in early layers and more in deeper ones is usual; more catch finer "
    "detail but cost time and memory.",
    "kernel_size": "The size of the window each filter looks at. 3 (or 3x3) is the usual "
    "choice; larger windows see more context at once but have many more weights.",
    "strides": "How far the window moves each step. 1 keeps the size; 2 halves it, "
    "shrinking the data quickly but possibly skipping detail.",
    "padding": "How the edges are handled: 'valid' uses only full windows (the output "
    "shrinks), 'same' pads with zeros so the size stays. For padding layers: how many zeros "
    "are added on each side.",
    "dilation_rate": "Gaps between the window's cells, to see wider context without more "
    "weights. Keep 1 unless you know you need a wider view.",
    "groups": "Splits the channels into independent groups (the number must divide the "
    "channels). 1 connects every channel with every other, the usual choice.",
    "output_padding": "Extra size added to a transposed convolution's output to get an exact "
    "size; each value must be below its stride. Leave empty to let Keras choose.",
    "depth_multiplier": "How many outputs each input channel gets in the per-channel step. "
    "Keep 1 unless the layer needs more capacity.",
    "pool_size": "The size of the window summarised into one value. 2 (halving the size) is "
    "usual; larger windows shrink the data faster and lose more detail.",
    "keepdims": "Keep the pooled axes with length 1 instead of dropping them, e.g. to add the "
    "result back to the input later.",
    "size": "How many times each value is repeated along each axis (the upsampling factor). "
    "2 doubles the size.",
    "interpolation": "How new in-between values are computed when resizing: 'nearest' copies "
    "the closest value, 'bilinear' blends neighbours smoothly.",
    "cropping": "How many values are cut off each side of each axis.",
    "dropout": "The share of inputs dropped at random during training to fight overfitting. "
    "0-0.5 is usual; too high and the layer cannot learn.",
    "recurrent_dropout": "Dropout on the memory carried from step to step. 0-0.3 is usual; "
    "any value above 0 makes the layer much slower on GPUs.",
    "return_sequences": "Output the result of every step (needed before another recurrent "
    "layer) instead of only the last step (enough before a Dense classifier).",
    "go_backwards": "Read the sequence from its end to its start.",
    "unit_forget_bias": "Start with the forget gate open, so that the memory is kept at first. "
    "Keep it on: it helps training start well.",
    "reset_after": "Where the GRU applies its reset gate. Keep it on (Keras's default and "
    "the version fast GPU kernels support).",
    "layer": "The layer applied by this wrapper: to each time step (TimeDistributed) or to "
    "the sequence in both directions (Bidirectional).",
    "merge_mode": "How the forward and backward results are joined: 'concat' keeps both side "
    "by side (twice the size), 'sum' or 'ave' add or average them.",
    "num_heads": "How many attention heads look at the sequence in parallel, each learning "
    "its own kind of relation. 2-16 is usual; more cost more.",
    "key_dim": "The size of each head's queries and keys. 16-128 is usual; larger heads can "
    "express more but have more weights.",
    "value_dim": "The size of each head's values. Leave empty to use key_dim.",
    "output_shape": "The size of the attention output's last axis. Leave empty to keep the "
    "query's size.",
    "attention_axes": "Which axes attention runs over. Leave empty for a sequence (every "
    "axis except the batch and the features).",
    "use_scale": "Learn a factor that sharpens or softens the attention scores.",
    "score_mode": "How a query and a key are compared: 'dot' multiplies them, 'concat' "
    "learns a small network to compare them.",
    "axis": "Which axis the operation works along; -1 is the last one (the features or "
    "channels), which is nearly always what you want.",
    "momentum": "How slowly the running averages of BatchNormalization follow each batch. "
    "0.9-0.99 is usual: higher is smoother but adapts more slowly.",
    "epsilon": "A tiny number added to avoid dividing by zero. Keep the default.",
    "center": "Learn an offset (beta) added after normalising. Keep it on.",
    "scale": "For normalization: learn a factor (gamma) applied after normalising. For "
    "Rescaling: the factor every value is multiplied by, e.g. 1/255 to bring pixels to 0-1.",
    "mean": "Fixed means to subtract. Leave empty to learn them from the training data.",
    "variance": "Fixed variances to divide by. Leave empty to learn them from the data.",
    "invert": "Undo the normalization instead (turn scaled values back into real ones).",
    "stddev": "The spread of the random noise added during training. 0.01-0.2 of the data's "
    "spread is usual; too much hides the signal.",
    "l1": "Penalty on the sum of absolute values; pushes many values to exactly 0. "
    "1e-5 to 1e-2 is usual; too high and the network stops learning.",
    "l2": "Penalty on the sum of squares; keeps values small. 1e-5 to 1e-2 is usual; too "
    "high and the network underfits.",
    "axes": "Which axis of each input is multiplied and summed over in the dot product.",
    "normalize": "Scale both inputs to length 1 first, so the result is the cosine "
    "similarity (between -1 and 1).",
    "max_value": "The largest value the output may take (e.g. 6 for relu6). Leave empty for "
    "no cap.",
    "negative_slope": "The slope for negative inputs: 0 is plain relu (negative outputs are "
    "0); a small value such as 0.01-0.3 lets some signal through and avoids dead neurons.",
    "threshold": "Inputs below this value count as off.",
    "shared_axes": "Axes that share one learned slope, e.g. 1 2 for images so each channel "
    "has one slope instead of one per pixel.",
    "alpha": "How far negative outputs may go (the saturation value). Keep 1.0.",
    "offset": "A value added after scaling, e.g. -1 with scale 1/127.5 maps pixels to -1..1.",
    "height": "The output height in pixels. Smaller images train faster but lose detail.",
    "width": "The output width in pixels. Smaller images train faster but lose detail.",
    "crop_to_aspect_ratio": "Crop the image to the target's aspect ratio instead of stretching it.",
    "pad_to_aspect_ratio": "Pad the image to the target's aspect ratio instead of stretching it.",
    "antialias": "Smooth the image when shrinking it, which avoids jagged edges (slower).",
    "mode": "Which flips may happen at random: horizontal, vertical or both.",
    "factor": "How strong the random change is, as a fraction (e.g. 0.1 = up to 10%). "
    "Small values (0.05-0.2) add variety; large ones make images hard to recognise.",
    "fill_mode": "How the empty area a transformation leaves is filled: reflect, wrap, the "
    "nearest pixel, or a constant.",
    "fill_value": "The value the empty area gets when fill_mode is constant.",
    "height_factor": "How much the height may change at random, as a fraction of it "
    "(0.1 = up to 10%).",
    "width_factor": "How much the width may change at random, as a fraction of it. Leave "
    "empty (zoom) to keep the aspect ratio.",
    "value_range": "The smallest and largest value the input's pixels can have, "
    "e.g. (0, 255) or (0, 1).",
    "addition_factor": "The most brightness added to an image before pixels above the "
    "threshold are inverted; 0 adds none.",
    "all_ops": "Whether colour changes join the geometric ones when copies are augmented.",
    "brightness_factor": "How much the brightness may change at random; leave empty for "
    "no brightness change.",
    "chain_depth": "How many augmentations are applied one after another to each copy.",
    "clip_limit": "How strongly local contrast may be boosted; higher values bring out more "
    "detail but also more noise.",
    "contrast_factor": "How much the contrast may change at random; leave empty for no "
    "contrast change.",
    "hue_factor": "How far the colours may shift around the colour wheel; leave empty for "
    "no shift.",
    "logit_soft_cap": "Keeps the scores of the way back from text ids below a ceiling, "
    "smoothly; leave empty for no ceiling.",
    "max_tokens": "How many different words the vocabulary keeps, the padding and "
    "unknown ids included; rarer words become unknown.",
    "ngrams": "Also treat runs of up to this many neighbouring words as tokens, so short "
    "phrases count; leave empty for single words.",
    "num_bins": "How many buckets the values are hashed into; more buckets mean fewer "
    "different values sharing one.",
    "num_chains": "How many differently augmented copies of an image are mixed together.",
    "num_ops": "How many random augmentations each image receives; more makes training "
    "harder and may help generalisation.",
    "num_tokens": "How many categories there are: the largest id plus one.",
    "output_mode": "Whether each id becomes its own number, or a sample becomes one vector "
    "that marks or counts its ids.",
    "output_sequence_length": "How many word ids each text becomes: longer texts are cut "
    "and shorter ones padded with zeros.",
    "output_size": "The size the output has along each axis, whatever the input's size; "
    "the pooling windows adapt to fit.",
    "salt": "A key that changes which bucket each value lands in; leave empty for the default key.",
    "saturation_factor": "How much the colour intensity may change at random; leave empty "
    "for no change.",
    "sigma": "How strong the blur may be at most; larger values smear more detail away.",
    "threshold_factor": "The brightness above which pixels may be inverted, at most; "
    "lower values invert more of the image.",
    "tie_weights": "Whether the same table turns ids into vectors and vectors back into "
    "scores; off uses a second table.",
    "tile_grid_size": "How many tiles per side the image is cut into before contrast is "
    "evened out in each.",
    "x_factor": "How far the image may be slanted sideways at most, as a fraction.",
    "y_factor": "How far the image may be slanted upwards at most, as a fraction.",
}

# What every weight initializer and regularizer parameter means, by suffix.
WEIGHT_EXPLANATIONS: dict[str, str] = {
    "_initializer": "How these weights get their starting values. Keep the default "
    "(glorot_uniform for most weights, zeros for biases); he_normal suits deep relu "
    "networks. Starting values that are too large or all equal stop training from working.",
    "_regularizer": "Adds a penalty for large weights to the loss, which fights overfitting. "
    "Try l2 around 1e-4; too strong and the network underfits.",
    "_constraint": "A rule these weights are held to after every update, such as a largest "
    "length (max_norm) or no negative values (non_neg). Usually left empty.",
}

ACTIVATION_EXPLANATIONS: dict[str, str] = {
    "linear": "No change: the output is the weighted sum. Right for regression outputs; in "
    "hidden layers it makes stacked layers no better than one.",
    "relu": "Keeps positive values and turns negatives into 0. The usual choice for hidden "
    "layers: simple and fast to train.",
    "sigmoid": "Squashes values into 0..1. For a one-unit output that answers yes/no.",
    "softmax": "Turns the outputs into probabilities that add up to 1. For the output of a "
    "classifier with several classes.",
    "tanh": "Squashes values into -1..1. Common inside recurrent layers.",
    "elu": "Like relu, but negative values curve smoothly towards -1, which can speed up learning.",
    "selu": "A self-normalising elu for deep plain Dense stacks (with lecun_normal "
    "initialisation and AlphaDropout).",
    "gelu": "A smooth relu used in transformers.",
    "silu": "x times sigmoid(x) (also called swish): a smooth relu that often trains well.",
    "softplus": "A smooth relu that is never exactly 0.",
    "softsign": "Squashes values into -1..1, more gently than tanh.",
    "leaky_relu": "Like relu, but negative values keep a small slope, so neurons never die.",
    "relu6": "relu capped at 6, common in mobile networks.",
    "hard_sigmoid": "A fast, piecewise-linear sigmoid.",
    "hard_silu": "A fast, piecewise approximation of silu (hard swish), used in MobileNetV3.",
    "exponential": "e to the power of x; grows very fast, rarely used.",
    "mish": "A smooth relu-like function that sometimes beats relu.",
    "log_softmax": "The logarithm of softmax; only with a loss that expects log-probabilities.",
}

INITIALIZER_EXPLANATIONS: dict[str, str] = {
    "glorot_uniform": "Random values scaled to the layer's size; Keras's default.",
    "glorot_normal": "Like glorot_uniform, drawn from a bell curve.",
    "he_uniform": "Scaled for relu layers; good for deep relu networks.",
    "he_normal": "Like he_uniform, drawn from a bell curve.",
    "lecun_uniform": "Scaled for selu networks.",
    "lecun_normal": "The partner of selu activations.",
    "orthogonal": "Weights that keep signals from growing or fading; good for recurrent layers.",
    "random_uniform": "Small uniform random values, not scaled to the layer.",
    "random_normal": "Small random values from a bell curve, not scaled to the layer.",
    "truncated_normal": "Like random_normal without extreme values.",
    "variance_scaling": "The general rule behind glorot/he/lecun.",
    "zeros": "All 0: right for biases; for weights every neuron would learn the same thing.",
    "constant": "Every value the same number (0 unless set): fine for biases, never for weights.",
    "ones": "All 1: for scales (gamma) of normalization.",
}

OPTIMIZER_EXPLANATIONS: dict[str, str] = {
    "sgd": "Plain gradient descent: simple and predictable, often with momentum 0.9. Needs "
    "a well-chosen learning rate (0.01-0.1).",
    "adam": "Adapts the step of every weight by itself; the usual first choice (learning "
    "rate 0.001).",
    "adamw": "Adam with weight decay done right; good with a weight_decay of about 1e-4.",
    "rmsprop": "Adapts steps to recent gradient sizes; a classic for recurrent networks.",
    "adagrad": "Steps shrink for often-updated weights; suits sparse data.",
    "nadam": "Adam with Nesterov momentum; sometimes converges a little faster.",
}

LOSS_EXPLANATIONS: dict[str, str] = {
    "auto": "Chosen from the data and the output layer: crossentropy for classes, mean "
    "squared error for values.",
    "sparse_categorical_crossentropy": "For classes given as numbers 0, 1, 2, ... with one "
    "output unit per class.",
    "categorical_crossentropy": "For classes given as one-hot vectors, one output unit per class.",
    "binary_crossentropy": "For yes/no answers with one sigmoid output unit.",
    "mean_squared_error": "For predicting values; punishes big errors strongly.",
    "mean_absolute_error": "For predicting values; less sensitive to outliers than squared error.",
    "huber": "Squared error for small errors, absolute for large ones: robust regression.",
}

METRIC_EXPLANATIONS: dict[str, str] = {
    "accuracy": "The share of samples classified correctly.",
    "precision": "Of the samples predicted positive, the share that really are.",
    "recall": "Of the samples that really are positive, the share found.",
    "auc": "Area under the ROC curve: 1 separates classes perfectly, 0.5 is guessing.",
    "mae": "Mean absolute error: the average size of a prediction's error.",
    "mse": "Mean squared error: like mae, but big errors count much more.",
}


def layer_param_explanation(name: str) -> str:
    """The shared explanation of a layer parameter called `name`, or ""."""
    if name in LAYER_PARAM_EXPLANATIONS:
        return LAYER_PARAM_EXPLANATIONS[name]
    for suffix, text in WEIGHT_EXPLANATIONS.items():
        if name.endswith(suffix):
            return text
    return ""


def choice_explanation(param_name: str, choice: object) -> str:
    """What one choice of a parameter means (an activation, optimizer, ...), or ""."""
    if param_name.endswith("activation"):
        table = ACTIVATION_EXPLANATIONS
    elif param_name.endswith("_initializer"):
        table = INITIALIZER_EXPLANATIONS
    else:
        table = {
            "optimizer": OPTIMIZER_EXPLANATIONS,
            "loss": LOSS_EXPLANATIONS,
            "metrics": METRIC_EXPLANATIONS,
        }.get(param_name, {})
    return table.get(str(choice), "")
