"""A small multi-layer perceptron in numpy (the core may not use torch; this is all it needs).

Why not scikit-learn's ``MLPClassifier``: measured on the detector's training data (40k x 56, 20
epochs) it took 2.2 s against 0.9 s here, and its Adam has no learning-rate decay, so with the
same thresholds it flagged more (kodim01 dust precision 0.28 against 0.36, clean false alarms
14.3k against 9.3k px/MP).

Two hidden ReLU layers and a softmax, trained with Adam on mini-batches. Tens of thousands of
samples with a few dozen features train in about a second on one core, and the result is
deterministic for a given seed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np


@dataclass
class MLP:
    """Weights and the input standardisation; :meth:`predict` gives class probabilities."""

    mean: np.ndarray
    scale: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """N x C probabilities for N x F float32 samples."""
        h = (x - self.mean) * self.scale
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                np.maximum(h, 0, out=h)
        h -= h.max(axis=1, keepdims=True)
        np.exp(h, out=h)
        h /= h.sum(axis=1, keepdims=True)
        return h


def fit(x: np.ndarray, y: np.ndarray, classes: int, *, seed: int = 0, hidden: tuple[int, ...] = (48, 24),
        epochs: int = 12, batch: int = 256, lr: float = 3e-3, weight_decay: float = 1e-4,
        sample_weight: np.ndarray | None = None) -> MLP:
    """Train on N x F samples ``x`` with integer labels ``y`` (0..classes-1)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, np.float32)
    mean = x.mean(0)
    scale = (1.0 / np.maximum(x.std(0), 1e-6)).astype(np.float32)
    sizes = [x.shape[1], *hidden, classes]
    layers = [((rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32), np.zeros(b, np.float32))
              for a, b in itertools.pairwise(sizes)]
    model = MLP(mean.astype(np.float32), scale, layers)
    xs = (x - model.mean) * model.scale
    wts = np.ones(len(y), np.float32) if sample_weight is None else sample_weight.astype(np.float32)
    params = [p for layer in layers for p in layer]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, t = 0.9, 0.999, 0
    steps = epochs * max(1, len(y) // batch)
    for epoch in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y) - batch + 1, batch):
            idx = order[start:start + batch]
            grads = _backprop(layers, xs[idx], y[idx], wts[idx], classes)
            t += 1
            rate = lr * 0.5 * (1 + np.cos(np.pi * t / steps))  # cosine decay
            for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                g = g + weight_decay * p
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                p -= rate * (m[i] / (1 - beta1**t)) / (np.sqrt(v[i] / (1 - beta2**t)) + 1e-8)
        del epoch
    return model


def _backprop(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, y: np.ndarray, wts: np.ndarray,
              classes: int) -> list[np.ndarray]:
    acts = [x]
    h = x
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0)
        acts.append(h)
    logits = acts[-1] - acts[-1].max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    delta = p * (wts / wts.sum())[:, None]
    grads: list[np.ndarray] = []
    for i in range(len(layers) - 1, -1, -1):
        w, _ = layers[i]
        grads[:0] = [acts[i].T @ delta, delta.sum(0)]
        if i:
            delta = (delta @ w.T) * (acts[i] > 0)
    return grads
