"""The replay memory: a fixed number of past samples, mixed into the training of new tasks.

Two ways to choose what stays, both one pass over the stream of samples:

- "random": reservoir sampling (Vitter, "Random sampling with a reservoir",
  ACM TOMS 1985): after n samples each one is in memory with probability
  size / n, whatever the order they came in.
- "class_balanced": class-balanced reservoir sampling (Chrysakis & Moens,
  "Online Continual Learning from Imbalanced Data", ICML 2020): while memory
  is full, a sample of a class that holds less than the largest class's share
  replaces a random sample of the largest class; a sample of a largest class
  replaces one of its own class's samples with reservoir probability. Classes
  end up holding equal shares (within one sample).

Replay itself is Experience Replay (Chaudhry et al., "On Tiny Episodic
Memories in Continual Learning", 2019): every new batch is trained together
with a batch of the same size drawn from memory.
"""

from __future__ import annotations

import numpy as np

SELECTIONS = ("random", "class_balanced")


class ReplayBuffer:
    """A memory of at most `size` (features, class id) samples.

    Args:
        size: The most samples it keeps.
        selection: "random" (reservoir) or "class_balanced".
        seed: Seed of its random choices.
    """

    def __init__(self, size: int, selection: str = "random", seed: int = 0) -> None:
        if size < 1:
            raise ValueError(f"buffer size must be at least 1. Received: {size}")
        if selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}. Received: {selection!r}")
        self.size = size
        self.selection = selection
        self._rng = np.random.default_rng(seed)
        self._x: np.ndarray | None = None
        self._y = np.zeros(size, dtype="int64")
        self._count = 0
        self._seen = 0
        self._seen_per_class: dict[int, int] = {}
        self._counts: dict[int, int] = {}

    def __len__(self) -> int:
        return self._count

    @property
    def x(self) -> np.ndarray:
        """The samples in memory (empty before the first `add`)."""
        return np.empty((0,)) if self._x is None else self._x[: self._count]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._count]

    def class_counts(self) -> dict[int, int]:
        """Samples in memory per class id."""
        return {c: n for c, n in sorted(self._counts.items()) if n}

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Offers each sample of (`x`, `y`) to the memory, in order."""
        if self._x is None:
            self._x = np.zeros((self.size, *x.shape[1:]), dtype=x.dtype)
        offer = self._offer_random if self.selection == "random" else self._offer_balanced
        for sample, label in zip(x, y, strict=True):
            self._seen += 1
            label = int(label)
            self._seen_per_class[label] = self._seen_per_class.get(label, 0) + 1
            offer(sample, label)

    def sample(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """`count` samples drawn from memory with replacement (a replay batch)."""
        picks = rng.integers(0, self._count, size=count)
        return self._x[picks], self._y[picks]

    def _store(self, slot: int, sample: np.ndarray, label: int) -> None:
        if slot < self._count:
            self._counts[int(self._y[slot])] -= 1
        self._x[slot] = sample
        self._y[slot] = label
        self._counts[label] = self._counts.get(label, 0) + 1

    def _append(self, sample: np.ndarray, label: int) -> None:
        self._store(self._count, sample, label)
        self._count += 1

    def _offer_random(self, sample: np.ndarray, label: int) -> None:
        if self._count < self.size:
            self._append(sample, label)
            return
        slot = self._rng.integers(0, self._seen)
        if slot < self.size:
            self._store(slot, sample, label)

    def _offer_balanced(self, sample: np.ndarray, label: int) -> None:
        if self._count < self.size:
            self._append(sample, label)
            return
        counts = self._counts
        largest = max(counts.values())
        own = counts.get(label, 0)
        if own < largest:
            # Evict a random sample of one of the largest classes.
            biggest = sorted(c for c, n in counts.items() if n == largest)
            victim_class = biggest[self._rng.integers(0, len(biggest))]
            slots = np.flatnonzero(self.y == victim_class)
            self._store(int(self._rng.choice(slots)), sample, label)
            return
        # Its class is among the largest: reservoir sampling within the class.
        if self._rng.random() < own / self._seen_per_class[label]:
            slots = np.flatnonzero(self.y == label)
            self._store(int(self._rng.choice(slots)), sample, label)
