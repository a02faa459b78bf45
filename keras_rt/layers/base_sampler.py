"""The base class of keras-rt's reparameterized sampling layers."""

from __future__ import annotations

import keras
from keras import ops

from keras_rt.ops.noise import (
    MAX_SOBOL_POINTS,
    check_qmc_backend,
    check_sobol_dim,
    sobol_dim,
    standard_normal_noise,
)
from keras_rt.ops.validation import check_choice, check_int, check_layer_inputs


class BaseSampler(keras.layers.Layer):
    """Base class of the reparameterized samplers: seed, sample axis, inference mode, draw.

    It holds what every sampler repeats, once:

    - a `keras.random.SeedGenerator(seed)` (`self.seed_generator`) that every
      random draw uses, so a seed makes the layer reproducible and each call
      still draws fresh noise (also inside an exported SavedModel);
    - `num_samples`: `None` for one sample with no sample axis, or an
      integer `k >= 1` for `k` samples on a new axis 1, with the matching
      `compute_output_shape`;
    - the inference mode: while training, and always when
      `inference="sample"`, `call` returns `draw(params)`; otherwise it
      returns `infer(params)`;
    - `standard_normal(shape)`, the one place where standard-normal noise
      `eps ~ N(0, I)` is drawn, with the joint law `noise` names (see
      below).

    A subclass sets `INFERENCE_MODES` (the first one, `"sample"`, keeps
    drawing when not training) and implements `draw`, plus `infer` when it
    has other modes, `parameters` to split its inputs, and `event_shape`
    when one draw's shape is not the input's shape. Its `get_config` adds
    its own constructor arguments to this one's (`seed` and `inference`),
    `num_samples` and `noise` included when it offers them. A Gaussian
    sampler offers a choice of noise by setting
    `NOISE_TYPES = keras_rt.ops.noise.NOISE_TYPES` and calling
    `check_noise_shape(event_shape)` in its `build`; the others keep
    `NOISE_TYPES = ("normal",)`.

    What the layer is called on is checked before it is built, eagerly and
    symbolically alike (`check_inputs`): the structure that the subclass's
    `INPUT_NAMES`, `INPUT_SHAPES` and `PACKED_INPUT` describe (a list or one
    tensor, never a dict; not checked when `INPUT_NAMES` is `None`, the
    default), and a floating-point dtype for every tensor (float16 and
    bfloat16 included). So integer inputs to a functional
    model are refused when the model is built, not at `predict`, with a
    message that names the layer, what it expects and what it received.
    Shapes are checked in `build`.

    Noise (`keras_rt.ops.standard_normal_noise`); every choice gives each
    draw an exact `N(0, I)` law, only the joint law of the draws differs:

    - `"normal"`: independent draws.
    - `"antithetic"`: pairs `eps, -eps`. With `num_samples = k` the pairs
      lie along the sample axis (sample `j` and sample `j + k / 2` of each
      example; `k` must be even); otherwise along the batch (example `i`
      and example `i + ceil(batch / 2)`; with an odd batch the example
      `ceil(batch / 2) - 1` has no partner: an ordinary draw).
    - `"qmc"`: randomized quasi-Monte Carlo. With `num_samples = k` the `k`
      samples of each example are one scrambled Sobol point set; otherwise
      the batch is one. A point spans all latent dimensions of one draw
      (the product of the event shape after the batch axis), at most
      `keras_rt.ops.noise.MAX_SOBOL_DIM = 21200`: larger latents are refused
      with a `ValueError` when the layer is built. The scramble is drawn
      from the layer's seed generator, afresh on every call. TensorFlow and
      JAX backends only (`RuntimeError` at construction on another).

    Every sampler runs on the TensorFlow and the JAX backends; the same seed
    draws different noise on the two (their random number generators differ).

    Args:
        seed: integer seed for the layer's noise; `None` picks a random one.
        num_samples: `None` (default) draws one sample without a sample
            axis; an integer `k >= 1` draws `k` samples on axis 1.
        inference: what the layer does when not training, one of
            `INFERENCE_MODES`. Defaults to `"sample"`.
        noise: the joint law of the Gaussian noise, one of `NOISE_TYPES`.
            Defaults to `"normal"`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: the distribution's parameters, as the subclass defines them.
        training: Python boolean; only used when `inference` is not
            `"sample"`.

    Example:

    >>> class ShiftedNormal(BaseSampler):
    ...     def draw(self, loc):
    ...         eps = self.standard_normal(self.sample_shape(ops.shape(loc)))
    ...         return self.expand_for_samples(loc) + eps
    ...     def get_config(self):
    ...         return {**super().get_config(), "num_samples": self.num_samples}
    >>> ShiftedNormal(seed=0, num_samples=3)(np.zeros((2, 4), "float32")).shape
    TensorShape([2, 3, 4])
    """

    INFERENCE_MODES: tuple[str, ...] = ("sample",)
    NOISE_TYPES: tuple[str, ...] = ("normal",)
    # What `call` takes, for `check_inputs`: the tensors' names in order (one
    # name: one tensor; several: a list; None: any structure, only dtypes are
    # checked), how their shapes relate, and the one tensor accepted in place
    # of the list (None: none).
    INPUT_NAMES: tuple[str, ...] | None = None
    INPUT_SHAPES: str = ""
    PACKED_INPUT: str | None = None

    def __init__(
        self,
        seed: int | None = None,
        num_samples: int | None = None,
        inference: str = "sample",
        noise: str = "normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_samples = check_int("num_samples", num_samples, allow_none=True)
        self.inference = check_choice("inference", inference, self.INFERENCE_MODES)
        self.noise = check_choice("noise", noise, self.NOISE_TYPES)
        self._check_noise_num_samples()
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _check_noise_num_samples(self) -> None:
        if self.noise == "qmc":
            check_qmc_backend()
        k = self.num_samples
        if k is None:
            return
        if self.noise == "antithetic" and k % 2:
            raise ValueError(
                "`noise='antithetic'` pairs the samples (eps, -eps) along the sample axis, "
                f"so `num_samples` must be even. Received: num_samples={k}, noise='antithetic'. "
                "Valid choices: an even num_samples, num_samples=None (pairs along the "
                f"batch), or another noise of {list(self.NOISE_TYPES)}."
            )
        if self.noise == "qmc" and k > MAX_SOBOL_POINTS:
            raise ValueError(
                f"`noise='qmc'` draws at most {MAX_SOBOL_POINTS} distinct Sobol points per "
                f"example. Received: num_samples={k}, noise='qmc'. Valid choices: "
                f"num_samples <= {MAX_SOBOL_POINTS}, or another noise of "
                f"{list(self.NOISE_TYPES)}."
            )

    # -- hooks for subclasses -------------------------------------------------

    def check_inputs(self, inputs) -> None:
        """Raises `ValueError` unless `inputs` are the floating-point tensors `call` takes.

        The message names the layer, what it expects and what it received.
        Runs on every call, before `build`, on tensors and `KerasTensor`s.
        """
        check_layer_inputs(
            self, inputs, self.INPUT_NAMES, shapes=self.INPUT_SHAPES, packed=self.PACKED_INPUT
        )

    def parameters(self, inputs):
        """Returns the parameters `draw` and `infer` take (the checked call `inputs`)."""
        return inputs

    def draw(self, params):
        """Returns a reparameterized sample, with the sample axis when `num_samples` is set."""
        raise NotImplementedError(f"{type(self).__name__} must implement `draw(params)`.")

    def infer(self, params):
        """Returns the output when not training under an `inference` mode other than "sample"."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `infer(params)` for "
            f"inference={self.inference!r}."
        )

    def event_shape(self, input_shape):
        """The shape of one draw (no sample axis) for inputs of `input_shape`."""
        return tuple(input_shape)

    # -- shared machinery -----------------------------------------------------

    def standard_normal(self, shape):
        """Draws `eps ~ N(0, I)` of `shape` in the compute dtype from the layer's seed generator.

        Every Gaussian sampler draws its noise here, with the joint law
        `self.noise` names; `shape` is a `sample_shape`: its axis 1 is the
        sample axis when `num_samples` is set, else its axis 0 (the batch) is
        the axis along which antithetic pairs and QMC point sets lie.
        """
        axis = 0 if self.num_samples is None else 1
        return standard_normal_noise(
            self.noise, shape, self.seed_generator, axis=axis, dtype=self.compute_dtype
        )

    def check_noise_shape(self, event_shape) -> None:
        """Raises `ValueError` if `noise="qmc"` and one draw of `event_shape` has too many dimensions.

        Args:
            event_shape: the shape of one draw, batch first (`event_shape(input_shape)`).
        """
        if self.noise == "qmc":
            check_sobol_dim(sobol_dim(event_shape, 0), what=f" (event shape {tuple(event_shape)})")

    def sample_shape(self, shape):
        """`shape` with `num_samples` inserted at position 1 (unchanged when it is None)."""
        shape = tuple(shape)
        if self.num_samples is None:
            return shape
        return shape[:1] + (self.num_samples,) + shape[1:]

    def expand_for_samples(self, tensor):
        """Adds a length-1 sample axis at position 1 when `num_samples` is set, to broadcast."""
        return tensor if self.num_samples is None else ops.expand_dims(tensor, 1)

    def repeat_for_samples(self, tensor):
        """Repeats `tensor` `num_samples` times along a new axis 1 (unchanged when None)."""
        if self.num_samples is None:
            return tensor
        return ops.repeat(ops.expand_dims(tensor, 1), self.num_samples, axis=1)

    def __call__(self, inputs, *args, **kwargs):
        # Before Keras converts, builds or traces: a symbolic call never reaches
        # `call`, and `build` sees shapes only.
        self.check_inputs(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None):
        params = self.parameters(inputs)
        if training or self.inference == "sample":
            return self.draw(params)
        return self.infer(params)

    def compute_output_shape(self, input_shape):
        return self.sample_shape(self.event_shape(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "inference": self.inference})
        return config
