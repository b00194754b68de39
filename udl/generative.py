"""Helpers the generative notebooks (12-14) share: sample grids, a classifier-based score, text sampling, bits per character.

- ``SampleGrid``: a callback that keeps a generator's samples from fixed noise after every epoch; ``plot`` shows them.
- ``classifier_score``: exp(E_x[KL(p(y|x) || p(y))]) from a classifier's probabilities on generated (or real) images.
- ``reweight`` and ``sample_with_temperature``: sharpen or flatten a distribution with a temperature, and draw from it.
- ``sample_text``: generate text from a stateful character model, one row per temperature.
- ``bits_per_char``: the mean -log2 probability a model gave to the characters that came next.
- ``VAE``: notebook 12's variational autoencoder, a ``keras.Model`` with its own loss, correct on several replicas.

The models are the lesson and stay in the notebooks, except the two whose custom training must be tested on one
device and on two (``VAE`` here; the GAN game): the notebooks show their code.
"""

from __future__ import annotations

import math

import keras
import matplotlib.pyplot as plt
import numpy as np

from udl._checks import fail, positive_int, seed as check_seed


# --- checks shared by the public functions ----------------------------------------------------------------

def _float_array(arg: str, value, ndim: tuple[int, ...]) -> np.ndarray:
    """Return `value` as a finite float array with one of the dimensions `ndim`, else raise."""
    array = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise fail(arg, "an array of numbers", value, TypeError)
    dims = " or ".join(f"{d}-D" for d in ndim)
    if array.ndim not in ndim or array.size == 0:
        raise fail(arg, f"a non-empty {dims} array", array)
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise fail(arg, "finite numbers (no NaN or inf)", array)
    return array


def _probabilities(arg: str, value, ndim: tuple[int, ...]) -> np.ndarray:
    """Return `value` as an array of probability rows (last axis sums to 1), else raise."""
    p = _float_array(arg, value, ndim)
    if p.min() < 0 or not np.allclose(p.sum(axis=-1), 1.0, atol=1e-3):
        raise fail(arg, "probabilities: non-negative, each row summing to 1 (apply a softmax to logits)", value)
    return p


def _temperature(arg: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise fail(arg, "a positive number, e.g. 0.5 (sharper) or 1.2 (flatter)", value)
    return float(value)


# --- scores -----------------------------------------------------------------------------------------------

def bits_per_char(probabilities, targets, *, logits: bool = False) -> float:
    """Return the mean -log2 probability that `probabilities` gave to the `targets` (bits per character).

    Args:
        probabilities: (N, V) or (B, T, V): a distribution over the V characters at each position
            (or unnormalised scores with ``logits=True``).
        targets: (N,) or (B, T) integers in [0, V): the characters that came next.

    Example:
        >>> bits_per_char([[0.5, 0.5], [0.25, 0.75]], [0, 1])   # (1 + 0.415) / 2
        0.7075187496394219
    """
    scores = (_float_array if logits else _probabilities)("probabilities", probabilities, (2, 3))
    ids = np.asarray(targets)
    if not np.issubdtype(ids.dtype, np.integer):
        raise fail("targets", "integer character ids", targets, TypeError)
    if ids.shape != scores.shape[:-1]:
        raise fail("targets", f"an array of shape {scores.shape[:-1]} (one id per row of `probabilities`)", ids)
    if ids.min() < 0 or ids.max() >= scores.shape[-1]:
        raise fail("targets", f"ids in [0, {scores.shape[-1]})", ids)
    if logits:
        shifted = scores - scores.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    else:
        with np.errstate(divide="ignore"):
            log_p = np.log(scores)
    picked = np.take_along_axis(log_p, ids[..., None], axis=-1)
    return float(-picked.mean() / np.log(2))


def classifier_score(probabilities) -> float:
    """Return exp(E_x[KL(p(y|x) || p(y))]) for a classifier's class probabilities (N, K) on N images.

    It is the Inception Score with a classifier for the images at hand: K when every image is classified
    confidently and all K classes are equally common, 1 when all images look alike to the classifier (one class,
    or noise it is unsure about). Real MNIST test digits score about 9.9 with a good digit classifier.

    Example:
        >>> classifier_score(np.eye(10))        # ten confident images, one per class
        10.000000000000002
        >>> classifier_score(np.full((5, 10), 0.1))   # unsure about everything
        1.0
    """
    p = _probabilities("probabilities", probabilities, (2,))
    marginal = p.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(marginal)), 0.0)  # 0 log 0 = 0
    return float(np.exp(terms.sum(axis=1).mean()))


# --- sampling ---------------------------------------------------------------------------------------------

def reweight(probabilities, temperature: float) -> np.ndarray:
    """Return p**(1/temperature), renormalised: below 1 sharper (towards the likeliest), above 1 flatter.

    Example:
        >>> reweight([0.2, 0.8], temperature=0.5).round(3)   # 0.04 and 0.64, renormalised
        array([0.059, 0.941])
    """
    p = _probabilities("probabilities", probabilities, (1, 2))
    t = _temperature("temperature", temperature)
    with np.errstate(divide="ignore"):
        log_p = np.log(p) / t
    log_p -= log_p.max(axis=-1, keepdims=True)
    weights = np.exp(log_p)
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_with_temperature(probabilities, temperature: float = 1.0, rng=None):
    """Draw an index from `probabilities` (V,), or one per row of (B, V), after `reweight` by `temperature`.

    Example:
        >>> sample_with_temperature([0.1, 0.9], temperature=0.01, rng=np.random.default_rng(0))
        1
    """
    p = reweight(probabilities, temperature)
    rng = _rng(rng)
    rows = np.atleast_2d(p)
    picks = np.array([rng.choice(rows.shape[1], p=row) for row in rows])
    return int(picks[0]) if p.ndim == 1 else picks


def _rng(rng) -> np.random.Generator:
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if not isinstance(rng, np.random.Generator):
        raise fail("rng", "None, an integer seed or a numpy.random.Generator", rng, TypeError)
    return rng


def _reset_states(model) -> None:
    """Reset every stateful recurrent layer of `model`, nested models included (Keras 3 has no `Model.reset_states`)."""
    for layer in model.layers:
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
            layer.reset_state()
        elif isinstance(layer, keras.Model):
            _reset_states(layer)


def sample_text(model, vocabulary, prompt: str, length: int = 200, temperature=1.0, *, seed: int = 0,
                logits: bool = True) -> list[str]:
    """Generate `length` characters after `prompt` from a stateful character model; return one text per row.

    Args:
        model: a Keras model built on ``keras.Input(batch_shape=(B, None))`` whose stateful recurrent layers
            carry the context; it maps character ids (B, T) to scores (B, T, V) for the next character.
        vocabulary: the V characters, in id order (a string or a list of one-character strings).
        prompt: the text to start from; every character must be in `vocabulary`.
        temperature: one number for every row, or a sequence of B numbers (one per row).
        logits: True when the model outputs logits, False when it outputs probabilities.

    Example:
        >>> texts = sample_text(generator, vocabulary, "ROMEO:", length=100, temperature=[0.2, 0.5, 1.0, 1.2])
    """
    if not isinstance(model, keras.Model):
        raise fail("model", "a keras.Model", model, TypeError)
    batch = model.inputs[0].shape[0]
    if batch is None or len(model.inputs[0].shape) != 2:
        raise fail("model", "a model on keras.Input(batch_shape=(B, None)) with a fixed batch size B",
                   tuple(model.inputs[0].shape))
    chars = list(vocabulary) if isinstance(vocabulary, str) else vocabulary
    if not isinstance(chars, (list, tuple)) or not chars or not all(isinstance(c, str) and len(c) == 1 for c in chars):
        raise fail("vocabulary", "a string or a list of single characters", vocabulary, TypeError)
    if not isinstance(prompt, str) or not prompt:
        raise fail("prompt", "a non-empty string", prompt, TypeError)
    index = {c: i for i, c in enumerate(chars)}
    unknown = sorted(set(prompt) - set(index))
    if unknown:
        raise fail("prompt", f"characters from `vocabulary` only (not {''.join(unknown)!r})", prompt)
    length = positive_int("length", length)
    temps = [temperature] * batch if np.ndim(temperature) == 0 else list(temperature)
    if len(temps) != batch:
        raise fail("temperature", f"one number, or {batch} numbers (the model's batch size)", temperature)
    temps = [_temperature("temperature", t) for t in temps]

    rng = np.random.default_rng(seed)
    _reset_states(model)
    ids = np.tile([index[c] for c in prompt], (batch, 1))
    out = []
    for _ in range(length):
        scores = np.asarray(model.predict_on_batch(ids))[:, -1].astype(np.float64)
        p = _softmax(scores) if logits else scores / scores.sum(axis=-1, keepdims=True)
        ids = np.array([[sample_with_temperature(row, t, rng)] for row, t in zip(p, temps)])
        out.append(ids[:, 0])
    return [prompt + "".join(chars[i] for i in row) for row in np.stack(out, axis=1)]


def _softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- a generator's samples over training --------------------------------------------------------------------

class SampleGrid(keras.callbacks.Callback):
    """Keep `generator`'s outputs on fixed `noise` before training and after every `every` epochs.

    Args:
        generator: a Keras model mapping noise (N, ...) to images (N, H, W) or (N, H, W, C).
        noise: the fixed inputs, drawn once, so that the rows of the grid are comparable.
        value_range: the range of the generator's output (``(-1, 1)`` for tanh), shown as black to white.

    Example:
        >>> grid = SampleGrid(gan.generator, keras.random.normal((8, 64), seed=1), value_range=(-1, 1))
        >>> gan.fit(dataset, epochs=5, callbacks=[grid])
        >>> grid.plot()
    """

    def __init__(self, generator, noise, value_range=(0.0, 1.0), every: int = 1):
        super().__init__()
        if not isinstance(generator, keras.Model):
            raise fail("generator", "a keras.Model", generator, TypeError)
        self.noise = _float_array("noise", noise, (2, 3, 4)).astype("float32")
        if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                or not all(isinstance(v, (int, float)) for v in value_range) or value_range[0] >= value_range[1]):
            raise fail("value_range", "a pair (low, high) with low < high, e.g. (-1, 1) for tanh", value_range)
        self.generator, self.value_range, self.every = generator, tuple(value_range), positive_int("every", every)
        self.epochs: list[int] = []
        self.images: list[np.ndarray] = []
        self._seen = 0  # epochs trained, counted across calls to fit

    def _keep(self, epoch: int) -> None:
        low, high = self.value_range
        images = np.asarray(self.generator.predict(self.noise, verbose=0), dtype="float32")
        if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3)):
            raise fail("generator", "a model that outputs images (N, H, W) or (N, H, W, C) with C 1 or 3 "
                       "(end a flat decoder with layers.Reshape)", images)
        self.epochs.append(epoch)
        self.images.append(np.clip((images - low) / (high - low), 0.0, 1.0))

    def on_train_begin(self, logs=None):
        if not self.epochs:
            self._keep(0)

    def on_epoch_end(self, epoch, logs=None):
        self._seen += 1
        if self._seen % self.every == 0:
            self._keep(self._seen)

    def plot(self, n: int = 8, axes=None):
        """Show the first `n` samples of each kept epoch, one row per epoch; return the axes (rows × n)."""
        if not self.images:
            raise ValueError("SampleGrid has no samples yet: pass it to fit(callbacks=[...]) first")
        n = min(positive_int("n", n), len(self.noise))
        rows = len(self.images)
        if axes is None:
            _, axes = plt.subplots(rows, n, figsize=(1.1 * n, 1.1 * rows + 0.4), squeeze=False,
                                   layout="constrained")
        axes = np.asarray(axes, dtype=object).reshape(-1)
        if axes.size != rows * n or not all(isinstance(a, plt.Axes) for a in axes):
            raise fail("axes", f"{rows} × {n} matplotlib Axes", axes, TypeError)
        axes = axes.reshape(rows, n)
        for r, (epoch, images) in enumerate(zip(self.epochs, self.images)):
            for c in range(n):
                image = images[c]
                axes[r, c].imshow(image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image,
                                  cmap="gray", vmin=0, vmax=1)
                axes[r, c].set_xticks([])
                axes[r, c].set_yticks([])
            axes[r, 0].set_ylabel(f"epoch {epoch}", fontsize=9)
        axes[0, 0].figure.suptitle("Samples from the same fixed noise as training goes on")
        return axes


# --- memorisation: how close generated images are to the training images (notebook 14) ------------------------

def nearest_neighbours(images, reference) -> tuple[np.ndarray, np.ndarray]:
    """Return each image's Euclidean distance to its nearest image in `reference`, and that image's index.

    A generator that copies its training images makes samples much closer to the training set than new real
    images are: compare ``nearest_neighbours(generated, x_train)`` with ``nearest_neighbours(x_test, x_train)``.
    Distances are in pixel space (the images flattened), so both sets must share a shape and a value range.

    Args:
        images: (N, ...) the images to look up, e.g. generated digits (N, 28, 28, 1).
        reference: (M, ...) the images to search, e.g. the training digits, with the same shape per image.

    Returns:
        distances (N,) float64 and indices (N,) int: ``reference[indices[i]]`` is the nearest to ``images[i]``.

    Example:
        >>> d, i = nearest_neighbours(np.zeros((1, 2, 2)), np.stack([np.ones((2, 2)), np.zeros((2, 2))]))
        >>> d, i
        (array([0.]), array([1]))
    """
    from sklearn.neighbors import NearestNeighbors

    queries = _float_array("images", images, tuple(range(2, 6)))
    pool = _float_array("reference", reference, tuple(range(2, 6)))
    if queries.shape[1:] != pool.shape[1:]:
        raise fail("reference", f"images of the same shape as `images`' ({queries.shape[1:]})", pool)
    search = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(pool.reshape(len(pool), -1))
    distances, indices = search.kneighbors(queries.reshape(len(queries), -1))
    return distances[:, 0], indices[:, 0]


# --- the GAN game as a keras.Model (notebook 14) ----------------------------------------------------------------

class GAN(keras.Model):
    """A generator and a discriminator trained against each other by `fit`: notebook 14's DCGAN game.

    Each `train_step` makes two updates. First the discriminator learns to call real images real (the target
    `real_label`, 0.9 rather than 1: one-sided label smoothing) and generated ones fake (0); then the generator
    learns to make the discriminator say "real" (1). The noise comes from a `keras.random.SeedGenerator` attached
    to the model, so a run can be repeated.

    Under `tf.distribute.MirroredStrategy` (``runtime.setup(distribute=True)``; build and compile inside
    ``runtime.strategy().scope()``) each replica sees part of the batch and the replicas' gradients are summed, so
    each loss is summed over the replica's examples and divided by the GLOBAL batch size: the update is then the
    one a single device makes on the whole batch. The noise is drawn for the global batch and each replica takes its
    own slice, so replicas do not generate the same fakes. The losses it reports are the plain means. (Batch
    normalisation inside the players still uses each replica's own statistics unless built with
    ``synchronized=True``.)

    With ``ema`` (a decay such as 0.999) the model also keeps ``ema_generator``: a copy of the generator whose
    weights (batch-norm statistics included) are an exponential moving average of the generator's, updated after
    every generator step. Averaging the last thousand-odd updates smooths out the game's back-and-forth, so the
    average usually draws cleaner digits than the generator's current weights do; sample from it. Early on the
    decay is ``min(ema, (1 + t) / (10 + t))`` after t steps (as in ``tf.train.ExponentialMovingAverage``), so the
    average does not drag the random starting weights along for thousands of steps.

    Args:
        generator: a Keras model from noise (N, latent_dim) to images (N, H, W, C), e.g. ending in tanh.
        discriminator: a Keras model from images to one logit per image (N, 1): high for "real".
        real_label: the target for real images in the discriminator's loss (1.0 for none of the smoothing).
        seed: seeds the noise.
        ema: None (no average), or the decay of the moving average of the generator's weights, in (0, 1).

    Example:
        >>> gan = GAN(build_generator(), build_discriminator())
        >>> gan.compile(d_optimizer=keras.optimizers.Adam(5e-4, beta_1=0.5),
        ...             g_optimizer=keras.optimizers.Adam(5e-4, beta_1=0.5))
        >>> gan.fit(real_images_in_minus_1_to_1, epochs=3, steps_per_epoch=125)
    """

    def __init__(self, generator, discriminator, real_label: float = 0.9, seed: int = 0, ema: float | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(value, keras.Model):
                raise fail(arg, "a keras.Model", value, TypeError)
        if (isinstance(real_label, bool) or not isinstance(real_label, (int, float))
                or not 0.5 < real_label <= 1):
            raise fail("real_label", "a number in (0.5, 1], e.g. 0.9 (one-sided label smoothing) or 1.0", real_label)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = int(generator.input_shape[-1])
        self.real_label = float(real_label)
        self.seed_generator = keras.random.SeedGenerator(check_seed("seed", seed))
        if ema is not None and (isinstance(ema, bool) or not isinstance(ema, (int, float)) or not 0 < ema < 1):
            raise fail("ema", "None or a decay in (0, 1), e.g. 0.999", ema)
        self.ema = None if ema is None else float(ema)
        self.ema_generator = None
        if ema is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Set each player's optimiser (both required) and compile; other keyword arguments go to Keras."""
        for arg, value in (("d_optimizer", d_optimizer), ("g_optimizer", g_optimizer)):
            if not isinstance(value, keras.optimizers.Optimizer):
                raise fail(arg, "a keras.optimizers.Optimizer, e.g. keras.optimizers.Adam(5e-4, beta_1=0.5)",
                           value, TypeError)
        if d_optimizer is g_optimizer:
            raise fail("g_optimizer", "a different optimizer object from d_optimizer (each player keeps its own "
                       "moments), e.g. two keras.optimizers.Adam(5e-4, beta_1=0.5)", g_optimizer)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        super().compile(**kwargs)
        # Create each optimiser's variables (Adam's moments) now, under the caller's strategy scope. Left to the
        # first call of `apply_gradients`, they would be created while `fit` traces the step, and TensorFlow then
        # traces the whole step a second time: about a CPU-second for notebook 14's players.
        for optimizer, player in ((d_optimizer, self.discriminator), (g_optimizer, self.generator)):
            if not optimizer.built:
                optimizer.build(player.trainable_variables)

    def call(self, images, training=False):
        """Return the discriminator's logits for `images` (what `fit` calls on a batch of data to build the model)."""
        return self.discriminator(images, training=training)

    def _noise(self, batch):
        """Return this replica's slice of noise drawn for the global batch (all of it on one device)."""
        import tensorflow as tf

        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        noise = keras.random.normal((batch * replicas, self.latent_dim), seed=self.seed_generator)
        if replicas == 1:
            return noise
        start = tf.distribute.get_replica_context().replica_id_in_sync_group * batch
        return noise[start : start + batch]

    def _scaled(self, per_example):
        """Return (the loss to differentiate: sum / GLOBAL batch, the plain mean to report)."""
        import tensorflow as tf

        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        local = keras.ops.cast(keras.ops.shape(per_example)[0], per_example.dtype)
        return keras.ops.sum(per_example) / (local * replicas), keras.ops.mean(per_example)

    def train_step(self, real):
        import tensorflow as tf

        ops = keras.ops
        bce = keras.losses.binary_crossentropy
        batch = ops.shape(real)[0]
        noise = self._noise(batch)
        with tf.GradientTape() as tape:  # 1. the discriminator: real -> real_label, fake -> 0
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
            per_example = (bce(ops.full_like(real_logits, self.real_label), real_logits, from_logits=True)
                           + bce(ops.zeros_like(fake_logits), fake_logits, from_logits=True))
            d_loss, d_mean = self._scaled(per_example)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        noise = self._noise(batch)
        with tf.GradientTape() as tape:  # 2. the generator: make the discriminator say "real"
            fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
            g_loss, g_mean = self._scaled(bce(ops.ones_like(fake_logits), fake_logits, from_logits=True))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        if self.ema_generator is not None:  # 3. the moving average of the generator's weights
            steps = ops.cast(self.g_optimizer.iterations, "float32")
            decay = ops.minimum(self.ema, (1.0 + steps) / (10.0 + steps))
            for average, weight in zip(self.ema_generator.weights, self.generator.weights):
                average.assign(decay * average + (1.0 - decay) * ops.cast(weight, average.dtype))
        return {"d_loss": d_mean, "g_loss": g_mean}


# --- the variational autoencoder as a keras.Model (notebook 12) -------------------------------------------------

def _global_mean(per_example):
    """Return the sum of a replica's `per_example` losses over the GLOBAL batch: the mean on one device.

    Under `tf.distribute.MirroredStrategy` Keras sums the replicas' gradients, so each replica's loss must be its
    share of the mean over the whole batch, not the mean over its own slice (that would multiply the update by the
    number of replicas). On one device this is the plain mean.
    """
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    local = keras.ops.cast(keras.ops.shape(per_example)[0], per_example.dtype)
    return keras.ops.sum(per_example) / (local * replicas)


class VAE(keras.Model):
    """A variational autoencoder trained by `fit` on images alone: notebook 12's model.

    The encoder gives each image a Gaussian in code space (a mean and a log-variance); `call` draws a code from it
    with the reparameterisation trick (mean + standard deviation × noise, the noise from a
    `keras.random.SeedGenerator` attached to the model, so a run can be repeated; on several replicas each takes its
    own slice of one draw) and decodes it. The loss of one
    image is the reconstruction's binary cross-entropy summed over its pixels plus the KL divergence of its Gaussian
    from a standard normal; `compute_loss` returns its mean over the batch. Under `MirroredStrategy`
    (``runtime.setup(distribute=True)``; build and compile inside ``runtime.strategy().scope()``) each replica's
    sum is divided by the GLOBAL batch size, so the update is the one a single device makes on the whole batch.

    Args:
        encoder: a Keras model from images (N, ...) to ``[z_mean, z_log_var]``, each (N, latent_dim).
        decoder: a Keras model from codes (N, latent_dim) to images of the input's shape, values in [0, 1] (sigmoid).
        seed: seeds the sampling noise.

    Example:
        >>> vae = VAE(build_encoder(), build_decoder())
        >>> vae.compile(optimizer=keras.optimizers.Adam(2e-3))
        >>> vae.fit(x_train, batch_size=128, epochs=10)       # images in [0, 1]; no targets: the image is the target
    """

    def __init__(self, encoder, decoder, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(value, keras.Model):
                raise fail(arg, "a keras.Model", value, TypeError)
        if len(encoder.outputs) != 2:
            raise fail("encoder", "a model with two outputs, [z_mean, z_log_var]", f"{len(encoder.outputs)} outputs")
        self.encoder, self.decoder = encoder, decoder
        self.seed_generator = keras.random.SeedGenerator(check_seed("seed", seed))

    def compile(self, optimizer="rmsprop", **kwargs):
        """Compile as Keras does, and create the optimiser's variables now (see `GAN.compile`: one trace, not two)."""
        super().compile(optimizer=optimizer, **kwargs)
        if not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def call(self, x):
        z_mean, z_log_var = self.encoder(x)
        noise = self._noise(z_mean)                                     # standard normal, shaped like z_mean
        z = z_mean + keras.ops.exp(0.5 * z_log_var) * noise            # the reparameterisation trick
        return self.decoder(z), z_mean, z_log_var

    def _noise(self, like):
        """Return standard-normal noise shaped like `like`: this replica's slice of one draw for the global batch."""
        import tensorflow as tf

        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        context = tf.distribute.get_replica_context()
        if replicas == 1 or context is None:
            return keras.random.normal(keras.ops.shape(like), seed=self.seed_generator)
        batch = keras.ops.shape(like)[0]
        noise = keras.random.normal((batch * replicas, *like.shape[1:]), seed=self.seed_generator)
        start = context.replica_id_in_sync_group * batch
        return noise[start : start + batch]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        ops = keras.ops
        reconstruction, z_mean, z_log_var = y_pred
        per_pixel = keras.losses.binary_crossentropy(x, reconstruction)          # averaged over the channel axis
        reconstruction_loss = ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=1)  # summed over pixels
        kl = -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)
        return _global_mean(reconstruction_loss + kl)
