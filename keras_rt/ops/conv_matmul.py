"""A stride-1 2D convolution as one matrix product and shifted sums: fast with few output channels.

A 3x3 convolution from 32 channels to 1 (a decoder's output layer) does
little work per output value, and convolution kernels run it far below the
machine's matrix-product speed: on an AVX2 AMD EPYC its training step (batch
128, 28 x 28) took 52 ms with TensorFlow's kernels and 26 ms under XLA. The
same convolution is one matrix product, every input position times every
kernel tap (`inputs @ kernel` as `channels_in x (taps * channels_out)`),
followed by a sum of the taps' planes, each shifted by its tap's offset;
its gradient is two matrix products and the shifts reversed. Under XLA,
which fuses the slicing and the sums, that step took 12 ms there (in
float32; in bfloat16, which that CPU emulates, 51 ms against XLA's
convolution's 30). The machine's probe times it (`keras_rt.performance.probe`,
`narrow_conv` / `matmul_xla`), and partial XLA
(`keras_rt.distribute.partial_xla.xla_convolutions`) computes narrow
convolutions this way where it measured fastest.

On TensorFlow's kernels the forward matrix product is not a safe trade in
bfloat16: each tap's partial sum is rounded before the taps are added
(`conv_vae` trained 0.3-0.9 nats worse after 3 epochs that way on a Zen 5
EPYC). What is slow there is the kernel's gradient for one output channel:
`conv2d_matmul_filter_gradient` keeps TensorFlow's convolution for the
forward pass and the input's gradient, and computes the kernel's gradient
as one matrix product of the inputs with the output gradient's shifted
planes, accumulated in 32 bits like the kernels' (the probe's
`matmul_filter_gradient`). On that EPYC in bfloat16 that gradient took
0.6 ms instead of 1.5.

It does `taps` times the multiply-adds of each input position once, which
is the convolution's own count at stride 1; strided or dilated
convolutions would waste most of them, so they are left to the kernels
(`supports_conv_as_matmul`).
"""

from __future__ import annotations

import tensorflow as tf


def supports_conv_as_matmul(layer) -> bool:
    """Whether `conv2d_as_matmul` computes `layer`'s convolution: a `keras.layers.Conv2D`
    (not transposed or depthwise), stride 1, no dilation, one group, channels last,
    `"same"` or `"valid"` padding.

    Example:

    >>> supports_conv_as_matmul(keras.layers.Conv2D(1, 3, padding="same"))
    True
    >>> supports_conv_as_matmul(keras.layers.Conv2D(1, 3, strides=2))
    False
    """
    import keras

    return (
        isinstance(layer, keras.layers.Conv2D)
        and not isinstance(layer, keras.layers.Conv2DTranspose)
        and getattr(type(layer), "convolution_op", None) is keras.layers.Conv2D.convolution_op
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and getattr(layer, "groups", 1) == 1
        and layer.data_format == "channels_last"
        and layer.padding in ("same", "valid")
    )


def conv2d_as_matmul(inputs: tf.Tensor, kernel: tf.Tensor, padding: str = "same") -> tf.Tensor:
    """`tf.nn.conv2d(inputs, kernel, 1, padding.upper())`, computed as described in the module.

    Args:
        inputs: `(batch, height, width, channels_in)`.
        kernel: `(kernel_height, kernel_width, channels_in, channels_out)`.
        padding: `"same"` (TensorFlow's: the extra row or column of padding
            goes after) or `"valid"`.

    Returns:
        `(batch, out_height, out_width, channels_out)`, equal to the
        convolution up to float rounding.

    Example:

    >>> x = tf.random.normal((2, 8, 8, 4))
    >>> w = tf.random.normal((3, 3, 4, 1))
    >>> y = conv2d_as_matmul(x, w)
    >>> bool(tf.reduce_max(tf.abs(y - tf.nn.conv2d(x, w, 1, "SAME"))) < 1e-4)
    True
    """
    kh, kw, cin, cout, height, width = _shapes(inputs, kernel, padding)
    if height is None or width is None:
        dynamic = tf.shape(inputs)
        height, width = dynamic[1], dynamic[2]
    taps = tf.reshape(tf.transpose(kernel, (2, 0, 1, 3)), (cin, kh * kw * cout))
    flat = tf.matmul(tf.reshape(inputs, (-1, cin)), tf.cast(taps, inputs.dtype))
    planes = tf.reshape(flat, tf.stack([-1, height, width, kh * kw * cout]))
    if padding == "same":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        planes = tf.pad(planes, [[0, 0], [top, kh - 1 - top], [left, kw - 1 - left], [0, 0]])
        out_height, out_width = height, width
    else:
        out_height, out_width = height - kh + 1, width - kw + 1
    # out[h, w] = sum over taps (i, j) of plane_ij[h + i, w + j] (after the padding).
    total = None
    for i in range(kh):
        for j in range(kw):
            first = (i * kw + j) * cout
            part = planes[:, i : i + out_height, j : j + out_width, first : first + cout]
            total = part if total is None else total + part
    return total


def _shapes(inputs: tf.Tensor, kernel: tf.Tensor, padding: str) -> tuple:
    """`(kh, kw, channels_in, channels_out, height, width)` after checking `padding`."""
    if padding not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid'. Received: padding={padding!r}")
    return (*kernel.shape, inputs.shape[1], inputs.shape[2])


def _same_padding(kernel_size: int, padding: str) -> tuple[int, int]:
    """Rows (columns) of zeros before and after the input for `padding` (TensorFlow's "same":
    the extra one goes after)."""
    if padding == "valid":
        return 0, 0
    before = (kernel_size - 1) // 2
    return before, kernel_size - 1 - before


def conv2d_matmul_filter_gradient(
    inputs: tf.Tensor, kernel: tf.Tensor, padding: str = "same"
) -> tf.Tensor:
    """`tf.nn.conv2d(inputs, kernel, 1, padding.upper())` whose kernel gradient is a matrix product.

    The forward pass and the input's gradient are TensorFlow's convolution
    kernels; the kernel's gradient is one matrix product of the inputs with
    the output gradient's planes shifted back by each tap (taps x
    channels_out rows), instead of the filter-gradient kernel, which is slow
    for a few output channels.

    Args:
        inputs: `(batch, height, width, channels_in)`, height and width known.
        kernel: `(kernel_height, kernel_width, channels_in, channels_out)`.
        padding: `"same"` or `"valid"`.

    Returns:
        `(batch, out_height, out_width, channels_out)`: the convolution; its
        gradient equals the convolution's up to float rounding.

    Example:

    >>> x = tf.random.normal((2, 8, 8, 4))
    >>> w = tf.Variable(tf.random.normal((3, 3, 4, 1)))
    >>> with tf.GradientTape() as tape:
    ...     y = conv2d_matmul_filter_gradient(x, w)
    >>> ours = tape.gradient(y, w)
    >>> with tf.GradientTape() as tape:
    ...     y = tf.nn.conv2d(x, w, 1, "SAME")
    >>> bool(tf.reduce_max(tf.abs(ours - tape.gradient(y, w))) < 1e-3)
    True
    """
    kh, kw, cin, cout, height, width = _shapes(inputs, kernel, padding)
    if height is None or width is None:
        raise ValueError(
            "conv2d_matmul_filter_gradient needs the height and width of its inputs. "
            f"Received: inputs.shape={inputs.shape}"
        )
    (top, _), (left, _) = _same_padding(kh, padding), _same_padding(kw, padding)
    valid_size = (height - kh + 1, width - kw + 1)

    @tf.custom_gradient
    def convolve(inputs, kernel):
        outputs = tf.nn.conv2d(inputs, kernel, 1, padding.upper())

        def gradient(upstream):
            d_inputs = tf.raw_ops.Conv2DBackpropInput(
                input_sizes=tf.shape(inputs),
                filter=kernel,
                out_backprop=upstream,
                strides=[1, 1, 1, 1],
                padding=padding.upper(),
            )
            # d kernel[i, j, c, o] = sum over positions of inputs[p, c] times the upstream
            # gradient shifted back by tap (i, j): one product, rows = (tap, channel_out).
            out_height, out_width = (height, width) if padding == "same" else valid_size
            back = tf.transpose(upstream, (3, 0, 1, 2))  # (cout, batch, out_h, out_w)
            back = tf.pad(
                back,
                [
                    [0, 0],
                    [0, 0],
                    [kh - 1 - top, height - out_height + top],
                    [kw - 1 - left, width - out_width + left],
                ],
            )
            shifted = tf.stack(
                [
                    back[:, :, kh - 1 - i : kh - 1 - i + height, kw - 1 - j : kw - 1 - j + width]
                    for i in range(kh)
                    for j in range(kw)
                ]
            )  # (taps, cout, batch, height, width)
            # Neither operand transposed: oneDNN ran this shape 15-35% faster than (inputs^T
            # shifted^T) on a Zen 5 EPYC in bfloat16.
            d_by_tap = tf.matmul(
                tf.reshape(shifted, (kh * kw * cout, -1)), tf.reshape(inputs, (-1, cin))
            )  # (taps * cout, cin)
            d_kernel = tf.transpose(tf.reshape(d_by_tap, (kh, kw, cout, cin)), (0, 1, 3, 2))
            return d_inputs, d_kernel

        return outputs, gradient

    return convolve(inputs, tf.cast(kernel, inputs.dtype))


__all__ = ["conv2d_as_matmul", "conv2d_matmul_filter_gradient", "supports_conv_as_matmul"]
