"""The data contract: how DeepWire turns dataset settings into training arrays.

This module is the one place these rules live. The app uses it (runtime/data.py)
and every exported training script embeds its source, so both see identical
arrays. It imports no DeepWire module: only the standard library, NumPy and
scikit-learn at the top, pyarrow and TensorFlow inside the functions that
read tables and images.

Steps, in order:

1. Load raw features x (float32) and targets y (int64 class ids, or float32
   values for regression): a built-in dataset (BUILTINS) or a file.
2. Rows with a missing value are left out when `missing` is "drop"; with
   `drop_duplicates`, repeated (features, target) rows are left out, keeping
   the first.
3. Split with sklearn's train_test_split: test first, then validation from
   the rest (seed, stratified for classification when `stratify`). A class
   that only the validation or test split holds is refused.
4. Missing features are imputed (mean / median / most_frequent) and features
   scaled (standard / minmax / none) per flattened feature, both fitted on
   the training split only. The regression target is never scaled.
5. With `target: inputs` (autoencoders) the model learns to reconstruct its
   (scaled) input: y_* are the x_* arrays and the task is regression.

Files (checked before reading: a regular file, at most MAX_FILE_MB, which
the environment variable DEEPWIRE_MAX_DATA_MB raises):

- Tables: CSV (read with pyarrow.csv; delimiter `,` `;` or tab) or Parquet
  (`.parquet`/`.pq`, pyarrow.parquet). Each text rule below runs once per
  distinct value of a column, and the features are written only as split
  parts, already imputed and scaled (TableFeatures). The first row names the columns. The
  target is `target_column` (the last column when empty), a name no other
  column has, read in float64 so that labels stay apart. Empty cells and
  NA, N/A, NaN, null, none, ? (any case, surrounding spaces ignored) are
  missing. A column whose present values all parse as numbers is numeric
  (inf is refused); any other feature column is categorical and one-hot
  encoded (categories sorted, features named "column=value", at most
  MAX_CATEGORIES; a missing category is missing in each of its one-hot
  columns). A non-numeric feature column whose cells hold TEXT_MIN_WORDS or
  more words on average is free text instead: it must then be the only
  feature column, samples are its strings (empty cells become empty texts)
  and the model turns them into numbers itself (a string Input followed by
  TextVectorization); text is never imputed or scaled. A non-numeric target
  is classification with classes sorted by
  name; a numeric target is classification when it holds whole numbers
  with at most MAX_CLASSES_FOR_NUMBERS distinct values (named as written),
  regression otherwise. Rows whose target is missing are always left out. Cells hold at
  most MAX_CELL_BYTES; text must be UTF-8.
- NumPy `.npz`: arrays `x` (or X, features, data) and `y` (or Y, labels,
  target, targets); `y` may be absent when the target is the input. `.npy`:
  a 2-D numeric array whose target is the last column (or column number
  `target_column`, counted from 0, or from -1 backwards).
- Image folders: one sub-folder per class (sorted by name); PNG, JPEG, BMP
  and GIF files are decoded, resized to `image_size` and read as float32
  values in [0, 255] with 1 (grayscale) or 3 (rgb) channels. A class
  sub-folder without images, or none of whose images can be read, is refused. Images are not
  held in memory: x is an ImageFiles (decoded when indexed) and training
  streams them through a tf.data pipeline (`feed`, `image_pipeline`),
  cached in memory or on disk when `image_cache` asks. The folder is
  scanned once at load: unreadable files (corrupt ones, and broken links,
  folders or pipes named like images, which are never opened) are left out and listed in
  `Dataset.skipped`, and scaling is fitted per pixel on the training
  split. `drop_duplicates` does not apply to images.

Several Input nodes: each sample's features are flattened in order and cut
into consecutive pieces, one per Input in graph order, sized by that Input's
shape (`model_inputs`).
"""

import csv
import math
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn import datasets as sk
from sklearn.model_selection import ShuffleSplit
from sklearn.preprocessing import MinMaxScaler, StandardScaler

MISSING = ("", "na", "n/a", "nan", "null", "none", "?")
MAX_CLASSES_FOR_NUMBERS = 20
MAX_CATEGORIES = 1000
TEXT_MIN_WORDS = 3
MAX_CELL_BYTES = 128 * 1024
# Past this a value is infinite as a float32 feature (the target is kept in float64).
FLOAT32_MAX = float(np.finfo("float32").max)
MAX_FILE_MB = int(os.environ.get("DEEPWIRE_MAX_DATA_MB", "4096"))
TABLE_SUFFIXES = (".parquet", ".pq")
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
X_KEYS = ("x", "X", "features", "data")
Y_KEYS = ("y", "Y", "labels", "target", "targets")
SEQUENCE_STEPS = 20
# Rows per block when statistics are fitted and applied: bounds temporary memory.
CHUNK_ROWS = 65536
# Rows of a table's features written at a time: a block that stays in the CPU's cache
# while every column writes into it.
FILL_ROWS = 4096
# Rows of a table's features one thread writes at a time, and the most threads.
PARALLEL_ROWS = 65536
MAX_THREADS = 8
# Bytes of a CSV file's start that show which of its columns hold text.
TYPE_SAMPLE_BYTES = 1 << 20
# Pixels an image file may declare. A few hundred kilobytes of PNG can declare 20000 x
# 20000 pixels, gigabytes once decoded: such a file is refused before it is decoded.
MAX_IMAGE_PIXELS = 100_000_000
# Images per batch when a folder is scanned once at load (unreadable files, scaling).
SCAN_BATCH = 256
# Decoded images a cached pipeline shuffles among (the files' order is shuffled otherwise).
SHUFFLE_BUFFER = 2048
# Memory tf.data's autotuner may give an image pipeline's buffers: left alone it grows
# them towards half the machine's memory the longer a pass runs, i.e. with the images.
PIPELINE_RAM_MB = 256


class DataError(ValueError):
    """Data that cannot be used, with a message naming the file, column or row at fault."""


@dataclass(frozen=True)
class RawData:
    """Features and targets before splitting and scaling.

    Attributes:
        x: Features, float32, one sample per row (any trailing shape): an array, or
            ImageFiles or TableFeatures, which write the rows asked for.
        y: Targets, one per row of x: int64 class ids, or float32 values.
        task: "classification" or "regression".
        class_names: Names of the classes in id order (empty for regression).
        feature_names: Names of the flattened features.
        images: True when samples are images worth showing as pictures.
        rows: Indices of the rows of x to use (None: all), so that leaving
            rows out does not copy x.
        target_name: What the targets are called (a table's target column); "" if unnamed.
    """

    x: np.ndarray
    y: np.ndarray
    task: str
    class_names: tuple = ()
    feature_names: tuple = ()
    images: bool = False
    rows: np.ndarray | None = None
    target_name: str = ""


@dataclass
class Dataset:
    """A split, preprocessed dataset ready for `model.fit`.

    Attributes:
        name: The built-in name or the file/folder name.
        x_train: Training features, float32, shape (n, *input_shape).
        y_train: Training targets: int64 class ids, or float32 values.
        x_val: Validation features, or None without a validation split.
        y_val: Validation targets, or None.
        x_test: Test features.
        y_test: Test targets.
        task: "classification" or "regression" (reconstruction is regression).
        class_names: Class names in id order (empty for regression).
        feature_names: Names of the flattened features.
        num_classes: Distinct classes in the training split (0 for regression).
        input_shape: Shape of one sample, without the batch dimension.
        images: True when samples are pictures (the GUI's gallery shows them).
        target: "labels", or "inputs" when the model reconstructs its input.
        target_name: What the targets are called (a table's target column); "" if unnamed.
        skipped: Image files left out because they could not be read, as
            "file (reason)".
        split_rows: "train", "validation" and "test" -> the source rows (0-based,
            in the data as read) each split holds, in order: what a run's
            reproducibility bundle keeps to check that a retrain sees the same split.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    class_names: tuple
    feature_names: tuple
    num_classes: int
    input_shape: tuple
    images: bool = False
    target: str = "labels"
    target_name: str = ""
    skipped: tuple = ()
    split_rows: dict = field(default_factory=dict)

    @property
    def has_validation(self):
        return self.x_val is not None and len(self.x_val) > 0

    @property
    def text(self):
        """True when samples are strings for a string Input (free text)."""
        return self.x_train.dtype.kind == "U"

    @property
    def target_shape(self):
        """Shape of one target: () for class ids and scalars, input_shape to reconstruct."""
        return tuple(self.y_train.shape[1:])

    def describe(self):
        """One line for logs and panels, e.g. "digits: 1293/144/360 samples, 10 classes"."""
        sizes = f"{len(self.x_train)}/{0 if self.x_val is None else len(self.x_val)}/"
        sizes += f"{len(self.x_test)} train/val/test samples"
        kind = f"{self.num_classes} classes" if self.task == "classification" else self.task
        if self.target == "inputs":
            kind = "reconstruct the input"
        left_out = f"; {len(self.skipped)} unreadable images left out" if self.skipped else ""
        return f"{self.name}: {sizes} of shape {self.input_shape}, {kind}{left_out}"


# Built-in datasets: scikit-learn's bundled data and small generated tasks. ------------


def _bundled(loader, images=False):
    bunch = loader()
    x = bunch.data.astype("float32")
    if images:
        x = x.reshape(-1, 8, 8, 1)
    names = tuple(str(name) for name in bunch.target_names)
    features = tuple(str(name) for name in bunch.feature_names)
    return RawData(x, bunch.target.astype("int64"), "classification", names, features, images)


def _points(x, y, classes):
    names = tuple(str(i) for i in range(classes))
    return RawData(x.astype("float32"), y.astype("int64"), "classification", names, ("x1", "x2"))


def _steps():
    return tuple(f"t{i}" for i in range(SEQUENCE_STEPS))


def load_sine(settings):
    """Forecast the next value of a noisy sine wave from the previous 20."""
    samples, noise = settings["samples"], settings["noise"]
    rng = np.random.default_rng(settings["seed"])
    start = rng.uniform(0, 2 * np.pi, size=samples)
    t = start[:, None] + 0.25 * np.arange(SEQUENCE_STEPS + 1)
    wave = np.sin(t) + noise * rng.normal(size=t.shape)
    x = wave[:, :SEQUENCE_STEPS, None].astype("float32")
    return RawData(x, wave[:, SEQUENCE_STEPS].astype("float32"), "regression", (), _steps())


def load_sequence_classification(settings):
    """Tell rising from falling noisy sequences of 20 steps."""
    samples, noise = settings["samples"], settings["noise"]
    rng = np.random.default_rng(settings["seed"])
    y = rng.integers(0, 2, size=samples)
    slope = np.where(y == 1, 1.0, -1.0) * rng.uniform(0.5, 1.5, size=samples)
    x = slope[:, None] * np.linspace(0.0, 1.0, SEQUENCE_STEPS) + noise * rng.normal(
        size=(samples, SEQUENCE_STEPS)
    )
    x = x[..., None].astype("float32")
    return RawData(x, y.astype("int64"), "classification", ("falling", "rising"), _steps())


SENTIMENT_WORDS = {
    "subject": (
        "the movie",
        "this film",
        "the plot",
        "the acting",
        "the soundtrack",
        "the ending",
        "the story",
        "the cast",
        "the dialogue",
        "the script",
        "the camera work",
        "the pacing",
    ),
    "positive": (
        "wonderful",
        "brilliant",
        "moving",
        "delightful",
        "superb",
        "charming",
        "gripping",
        "beautiful",
        "clever",
        "fun",
        "touching",
        "excellent",
    ),
    "negative": (
        "boring",
        "awful",
        "dull",
        "clumsy",
        "terrible",
        "bland",
        "tedious",
        "weak",
        "messy",
        "predictable",
        "forgettable",
        "painful",
    ),
    "degree": ("", "really ", "truly ", "quite ", "very ", "rather ", "so "),
}
SENTIMENT_TEMPLATES = (
    "{subject} was {degree}{word}",
    "i thought {subject} was {degree}{word}",
    "honestly {subject} felt {degree}{word}",
    "{subject} is {degree}{word} and {other}",
    "what a {word} film",
    "{subject} was not {opposite} at all",
    "i would not call {subject} {opposite}",
)


def load_sentiment(settings):
    """Short synthetic film reviews, positive or negative (generated from templates).

    Made up by DeepWire for learning offline, not real reviews: a template, a
    subject and words of one sentiment are drawn per review; "not" with a
    word of the opposite sentiment keeps the review's label.
    """
    rng = np.random.default_rng(settings["seed"])
    words = SENTIMENT_WORDS
    labels = rng.integers(0, 2, size=settings["samples"])
    texts = []
    for label in labels:
        own, opposite = ("positive", "negative") if label else ("negative", "positive")

        def pick(kind):
            return words[kind][rng.integers(len(words[kind]))]

        template = SENTIMENT_TEMPLATES[rng.integers(len(SENTIMENT_TEMPLATES))]
        texts.append(
            template.format(
                subject=pick("subject"),
                degree=pick("degree"),
                word=pick(own),
                other=pick(own),
                opposite=pick(opposite),
            )
        )
    x = np.array(texts, dtype=str)[:, None]
    return RawData(x, labels.astype("int64"), "classification", ("negative", "positive"), ("text",))


BUILTINS = {
    "digits": lambda s: _bundled(sk.load_digits),
    "digits_images": lambda s: _bundled(sk.load_digits, images=True),
    "iris": lambda s: _bundled(sk.load_iris),
    "wine": lambda s: _bundled(sk.load_wine),
    "breast_cancer": lambda s: _bundled(sk.load_breast_cancer),
    "moons": lambda s: _points(
        *sk.make_moons(n_samples=s["samples"], noise=s["noise"], random_state=s["seed"]), 2
    ),
    "circles": lambda s: _points(
        *sk.make_circles(
            n_samples=s["samples"], noise=s["noise"], factor=0.5, random_state=s["seed"]
        ),
        2,
    ),
    "blobs": lambda s: _points(
        *sk.make_blobs(
            n_samples=s["samples"],
            centers=3,
            n_features=2,
            cluster_std=1.0,
            random_state=s["seed"],
        ),
        3,
    ),
    "sine": load_sine,
    "sequence_classification": load_sequence_classification,
    "sentiment": load_sentiment,
}


# Files: checked before reading. --------------------------------------------------------


def check_file(path, expected):
    """Refuses what is not a regular file of at most MAX_FILE_MB, before anything reads it.

    Args:
        path: The file.
        expected: What the file should be, for messages ("a CSV file").

    Raises:
        DataError: naming the path and what is wrong with it.
    """
    problem = file_problem(path, expected)
    if problem:
        raise DataError(f"{path}: {problem}")


def file_problem(path, expected):
    """Why `path` must not be read as `expected` (not a regular file, too large), or None.

    Nothing is opened: a pipe posing as a file would wait for a writer forever.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "is a link to a missing file" if os.path.islink(path) else "file not found"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if stat.S_ISDIR(info.st_mode):
        return f"is a folder, expected {expected}"
    if not stat.S_ISREG(info.st_mode):
        return f"is not a regular file (a device, pipe or socket), expected {expected}"
    if info.st_size > MAX_FILE_MB * 2**20:
        return (
            f"is {info.st_size / 2**20:.0f} MB, over the limit of {MAX_FILE_MB} MB "
            "for data files; set the environment variable DEEPWIRE_MAX_DATA_MB to raise it"
        )
    return None


def _class_name(value):
    """A whole-number label as written (16777217, not 1.67772e+07); beyond 2**53, %g."""
    return str(int(value)) if abs(value) <= 2**53 else f"{value:g}"


def _encode_target(values, cells, where):
    """Target values (numbers) or cells (text) -> (y, task, class names)."""
    if values is not None:
        whole = np.all(values == np.round(values))
        distinct = np.unique(values)
        if not whole or len(distinct) > MAX_CLASSES_FOR_NUMBERS:
            return values.astype("float32"), "regression", ()
        names = tuple(_class_name(v) for v in distinct)
        return np.searchsorted(distinct, values).astype("int64"), "classification", names
    names, codes = np.unique(np.asarray(cells, dtype=object).astype(str), return_inverse=True)
    return codes.astype("int64"), "classification", tuple(str(n) for n in names)


def _class_counts(y):
    """np.bincount(y) when `y` holds class ids (small non-negative integers), else None.

    Counting by id needs no sort nor hashing, unlike np.unique.
    """
    if y.dtype.kind in "iu" and len(y) and y.min() >= 0 and y.max() < 2**20:
        return np.bincount(y)
    return None


def _distinct_count(y):
    """len(np.unique(y)), counted by id for class ids."""
    counts = _class_counts(y)
    return len(np.unique(y)) if counts is None else int(np.count_nonzero(counts))


def _check_classes(y, task, names, where):
    if task == "classification" and _distinct_count(y) < 2:
        only = names[int(y[0])] if len(y) and names else "?"
        raise DataError(
            f"{where} has a single class ({only!r}): a classifier needs at least 2 classes"
        )


# Tables: CSV and Parquet through pyarrow. ------------------------------------------------


def _sniff_delimiter(path):
    with path.open("rb") as file:
        head = file.read(65536)
    if not head.strip():
        raise DataError(f"{path}: the file is empty")
    first_line = head.split(b"\n", 1)[0]
    try:
        first_line.decode("utf-8-sig")
        text = head.decode("utf-8-sig", errors="ignore")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a UTF-8 text file ({error.reason})") from None
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _contains(path, byte):
    """Whether the file holds `byte` anywhere (searched in C, without reading it into memory)."""
    import mmap

    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
        return view.find(byte) >= 0


def _find_bad_row(path, dialect):
    """Re-reads the file with Python's csv module to name the row pyarrow could not read.

    Raises:
        DataError: for a row with the wrong number of fields or a quote never closed.
    """
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as file:
        reader = csv.reader(file, dialect, strict=True)
        header, start = None, 1
        try:
            for row in reader:
                if header is None:
                    header = [name.strip() for name in row]
                elif any(cell.strip() for cell in row) and len(row) != len(header):
                    mixed = (
                        f" (read with the delimiter {dialect.delimiter!r}: do the header and "
                        "this row use different delimiters?)"
                        if min(len(row), len(header)) == 1
                        else ""
                    )
                    raise DataError(
                        f"{path}:{start}: row has {len(row)} fields, the header has "
                        f"{len(header)}{mixed}"
                    )
                start = reader.line_num + 1
        except csv.Error as error:
            file.seek(0)
            line = next(line for number, line in enumerate(file, 1) if number == start)
            fields = next(csv.reader([line], dialect))
            column = (header or [])[len(fields) - 1 : len(fields)] or [f"#{len(fields)}"]
            raise DataError(
                f"{path}:{start}: column {column[0]!r}: a quote opened on this line is never "
                f"closed, or a cell is over {MAX_CELL_BYTES:,} bytes ({error})"
            ) from None


def _sampled_types(path, parse, convert, target):
    """Types to read each column as, from what a sample of the file's first rows holds.

    Text columns are read dictionary-encoded, so later work on their text (trimming,
    missing markers, numbers, categories) is done once per distinct value. Number
    columns are parsed straight to float32, the features' type, without a float64
    table in between; the target column (`target`, else the last) as float64, so that
    class labels such as 16777217 stay apart.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open("rb") as file:
        sample = file.read(TYPE_SAMPLE_BYTES)
    if len(sample) == TYPE_SAMPLE_BYTES:
        sample = sample[: sample.rfind(b"\n") + 1]
    try:
        schema = pacsv.read_csv(
            pa.BufferReader(sample), parse_options=parse, convert_options=convert
        ).schema
    except pa.ArrowInvalid:
        return {}, {}
    names = [column.name for column in schema]
    target = (target or names[-1]).strip()  # as load_table compares names: trimmed
    text, numbers = {}, {}
    for column in schema:
        if names.count(column.name) != 1:
            continue
        if pa.types.is_string(column.type):
            text[column.name] = pa.dictionary(pa.int32(), pa.string())
        elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            exact = column.name.strip() == target
            numbers[column.name] = pa.float64() if exact else pa.float32()
    return text, numbers


def _read_csv(path, target=""):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    check_file(path, "a CSV file")
    dialect = _sniff_delimiter(path)
    quote = dialect.quotechar or False

    def parse_options(newlines_in_values):
        return pacsv.ParseOptions(
            delimiter=dialect.delimiter,
            quote_char=quote,
            double_quote=dialect.doublequote,
            newlines_in_values=newlines_in_values,
        )

    # Null markers only as exact text here; trimmed and any-case markers are found
    # afterwards. No booleans, dates or times: such columns stay text.
    options = {
        "null_values": [m for v in MISSING for m in {v, v.upper(), v.title()}],
        "strings_can_be_null": True,
        "true_values": ["\0"],
        "false_values": ["\0\0"],
        "timestamp_parsers": [],
    }
    # Without a quote anywhere every newline ends a row, and pyarrow reads faster: the
    # file is searched for one while the sample's types are read (the sample allowing
    # newlines in quoted values, as reads right whether or not it holds any).
    (text, numbers), quoted = _alongside(
        lambda: _sampled_types(
            path, parse_options(bool(quote)), pacsv.ConvertOptions(**options), target
        ),
        lambda: bool(quote) and _contains(path, quote.encode()),
    )
    parse = parse_options(quoted)
    # The sample's types first; when later rows disagree (a number column with text
    # further down, text that is not UTF-8) fewer, then none: pyarrow's own reading,
    # whose errors and binary columns say what is wrong.
    attempts = [{**text, **numbers}] + ([text] if text and numbers else [])
    for types in attempts + ([{}] if text or numbers else []):
        convert = pacsv.ConvertOptions(**options, column_types=types)
        try:
            table = pacsv.read_csv(path, parse_options=parse, convert_options=convert)
            break
        except pa.ArrowInvalid as error:
            if types:
                continue
            if "Empty CSV file" in str(error):
                raise DataError(f"{path}: the file is empty") from None
            _find_bad_row(path, dialect)
            message = str(error).splitlines()[0][:200]
            raise DataError(f"{path}: not a readable CSV file ({message})") from None
    if _last_row_swallowed(table):
        _find_bad_row(path, dialect)
    return table


def _last_row_swallowed(table):
    """Whether a stray quote made the last cell run to the end of the file."""
    import pyarrow as pa

    if table.num_rows == 0:
        return False
    for column in table.columns:
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if pa.types.is_string(kind):
            last = column[table.num_rows - 1].as_py()
            if last is not None and "\n" in last:
                return True
    return False


def _read_parquet(path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_file(path, "a Parquet file")
    try:
        # not read_table: its dataset reader refuses columns that share a name, which a
        # CSV may have and is read with
        with pq.ParquetFile(path) as file:
            return file.read()
    except (pa.ArrowException, OSError) as error:
        message = str(error).splitlines()[0][:200]
        raise DataError(f"{path}: not a readable Parquet file ({message})") from None


def _row_of(path, index):
    """The row number a user sees for a data row index: a CSV's line (the header is
    line 1), a Parquet file's row counted from 1."""
    return int(index) + (1 if path.suffix.lower() in TABLE_SUFFIXES else 2)


class _Column:
    """One table column as missing mask plus numbers or category codes (or free text)."""

    @property
    def missing(self):
        """Where the column's cells are missing (number columns: where they are NaN)."""
        return np.isnan(self.numbers) if self._missing is None else self._missing

    @missing.setter
    def missing(self, mask):
        self._missing = mask

    def __len__(self):
        return len(self.numbers if self._missing is None else self._missing)

    def __init__(self, path, name, column, exact=False):
        """`exact`: number values stay float64 (the target: labels past 2**24 stay apart)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        self.name, self.categories, self.codes, self.numbers = name, (), None, None
        self.text, self.exact = None, exact
        kind = column.type
        flat_dictionary = pa.types.is_dictionary(kind) and not pa.types.is_nested(kind.value_type)
        if pa.types.is_nested(kind) or (pa.types.is_dictionary(kind) and not flat_dictionary):
            raise DataError(
                f"{path}: column {name!r} holds {kind} values; only flat columns of numbers "
                "or text can be used"
            )
        if pa.types.is_float32(kind):  # a CSV's number columns: NaN where null, no copy
            self._keep_numbers(path, column.to_numpy(zero_copy_only=False))
            return
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
            # not a safe cast: an integer past 2**53 (an ID, a timestamp) rounds, as in a CSV
            numbers = pc.cast(column, pa.float64(), safe=False).fill_null(np.nan)
            self._keep_numbers(path, numbers.to_numpy(zero_copy_only=False))
            return
        if flat_dictionary:
            column = pc.cast(column, pa.dictionary(pa.int32(), kind.value_type))
            kind = kind.value_type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            self._refuse_binary(path, pc.cast(column, kind) if flat_dictionary else column)
        if not flat_dictionary:
            column = pc.dictionary_encode(pc.cast(column, pa.string()))
        encoded = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        self._keep_values(path, pc.cast(encoded.dictionary, pa.string()), encoded.indices)

    def _keep_values(self, path, values, indices):
        """Reads the column from its distinct `values` and each row's index into them.

        Every text rule (trimming, missing markers, numbers, free text, categories)
        runs once per distinct value; rows only look their value up.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        values = pc.utf8_trim_whitespace(values)
        rows = indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
        counts = np.bincount(rows, minlength=len(values) + 1)[:-1]
        self._refuse_long_cells(path, values, rows)
        marker = pc.is_in(pc.utf8_lower(values), pa.array(MISSING))
        absent = marker.to_numpy(zero_copy_only=False) | (counts == 0)
        self.missing = np.append(absent, True).take(rows)  # take: faster than [rows]
        present = pc.if_else(pa.array(absent), pa.scalar(None, pa.string()), values)
        try:
            numbers = pc.cast(present, pa.float64()).fill_null(np.nan).to_numpy()
        except pa.ArrowInvalid:
            spaces = pc.count_substring(present, " ").to_numpy(zero_copy_only=False)
            words = spaces[~absent] @ counts[~absent] / max(counts[~absent].sum(), 1) + 1
            texts = pc.fill_null(present, "").to_numpy(zero_copy_only=False).astype(str)
            if words >= TEXT_MIN_WORDS:
                self.text = np.append(texts, "")[rows]
                return
            categories, rank = np.unique(texts[~absent], return_inverse=True)
            # a missing cell's code is the number of categories: its one-hot slot
            codes = np.full(len(values) + 1, len(categories), dtype="int32")
            codes[np.flatnonzero(~absent)] = rank
            self.codes = self._slots = codes.take(rows)
            self.categories = tuple(str(category) for category in categories)
            return
        self._keep_numbers(path, np.append(numbers, np.nan).take(rows))

    def _keep_numbers(self, path, numbers):
        """Keeps `numbers` (NaN: missing) as float32 (float64 if exact), refusing what is
        not finite in float32."""
        self.numbers = numbers.astype("float64" if self.exact else "float32", copy=False)
        self.missing = None  # NaN says it: the mask is made when asked, not kept
        numbers = self.numbers
        infinite = np.abs(numbers) > FLOAT32_MAX if self.exact else np.isinf(numbers)
        if infinite.any():
            row = _row_of(path, np.argmax(infinite))
            raise DataError(
                f"{path}: row {row}, column {self.name!r}: the value is infinite (or beyond "
                "float32's range of 3.4e38); replace it with a number or leave the cell "
                "empty to mark it missing"
            )

    def _refuse_binary(self, path, column):
        for index, value in enumerate(column.to_pylist()):
            try:
                None if value is None else value.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataError(
                    f"{path}: row {_row_of(path, index)}, column {self.name!r}: not UTF-8 text "
                    f"(byte {value[error.start : error.start + 1]!r}); save the file as UTF-8"
                ) from None

    def _refuse_long_cells(self, path, values, rows):
        """Refuses a cell over MAX_CELL_BYTES (`values`: distinct cells; `rows`: each row's)."""
        import pyarrow.compute as pc

        lengths = pc.binary_length(values).to_numpy(zero_copy_only=False)
        if len(lengths) and lengths.max() > MAX_CELL_BYTES:
            index = int(np.argmax(np.append(lengths > MAX_CELL_BYTES, False)[rows]))
            raise DataError(
                f"{path}: row {_row_of(path, index)}, column {self.name!r}: the cell holds "
                f"{lengths[rows[index]]:,} bytes, over the limit of {MAX_CELL_BYTES:,} "
                "(a stray quote can make one cell run on over many lines)"
            )

    @property
    def width(self):
        return 1 if self.codes is None else len(self.categories)

    def forget_numbers(self):
        """Lets go of a number column's values; the column cannot be read afterwards."""
        if self.codes is None:
            self.numbers = None

    def slots(self):
        """Each row's one-hot slot: its category's code, or `width` where missing."""
        if not hasattr(self, "_slots"):
            self._slots = np.where(self.missing, self.width, self.codes).astype("int32")
        return self._slots

    def one_hot_rows(self, fill, operands, method):
        """Each slot's features, imputed and scaled: (width + 1, padded) float32.

        Row k is category k one-hot, the last row a missing category (`fill`, or NaN
        without one). Scaling a row here is scaling every cell that takes it, with the
        same float32 arithmetic. Rows are padded to 4, 8, 16 or 32 bytes, which numpy's
        take copies in dedicated loops.
        """
        padded = self.width if self.width > 8 else 1 << (self.width - 1).bit_length()
        table = np.zeros((self.width + 1, padded), dtype="float32")
        features = table[:, : self.width]
        features[:-1] = np.eye(self.width, dtype="float32")
        features[-1] = np.nan if fill is None else fill
        _scale(features, None if operands is None else (method, *operands))
        return table

    def statistics(self, train, missing):
        """What `impute` and `normalize` would fit on this column's features of `train` rows.

        Args:
            train: The rows of the training split, in order.
            missing: How missing values are filled ("drop" leaves none to fill).

        Returns:
            (fill, mean, variance, minimum, maximum) per feature of the column, of
            the training values once missing ones hold the fill (0 when "drop").
        """
        if self.codes is None:
            values = self.numbers.take(train)
            unknown = np.isnan(values)
            absent = int(np.count_nonzero(unknown))
            present = values[~unknown] if absent else values
            total = present.sum(dtype="float64")
            if missing == "mean":  # _fill_value's mean, from the sum needed anyway
                fill = total / len(present) if len(present) else 0.0
            else:
                fill = _fill_value(missing, present) if missing != "drop" else 0.0
            fill = np.float32(fill)
            mean = (total + absent * np.float64(fill)) / len(values)
            deviations = np.subtract(present, mean, dtype="float64")
            squares = np.square(deviations, out=deviations).sum()
            squares += absent * (np.float64(fill) - mean) ** 2
            extremes = [present] + ([np.array([fill])] if absent else [])
            low = min(part.min() for part in extremes if len(part))
            high = max(part.max() for part in extremes if len(part))
            fills, means, variances = np.array([fill]), np.array([mean]), np.array([squares])
            return fills, means, variances / len(values), np.array([low]), np.array([high])
        slots = self.slots().take(train)
        counts = np.bincount(slots, minlength=self.width + 1)
        ones, absent = counts[:-1].astype("float64"), counts[-1]
        present = len(slots) - absent
        if missing == "mean":
            fills = np.divide(ones, present, out=np.zeros(self.width), where=present > 0)
        elif missing == "drop":
            fills = np.zeros(self.width)
        else:
            codes = slots[slots < self.width]
            fills = [
                _fill_value(missing, (codes == k).astype("float32")) for k in range(self.width)
            ]
        fills = np.asarray(fills, dtype="float32")
        filled = fills.astype("float64")
        means = (ones + absent * filled) / len(slots)
        variances = ones * (1 - means) ** 2 + (present - ones) * means**2
        variances = (variances + absent * (filled - means) ** 2) / len(slots)
        low = np.where(present - ones > 0, 0, np.where(ones > 0, 1, np.inf))
        high = np.where(ones > 0, 1, np.where(present - ones > 0, 0, -np.inf))
        if absent:
            low, high = np.minimum(low, filled), np.maximum(high, filled)
        return fills, means, variances, low.astype("float32"), high.astype("float32")


class TableFeatures:
    """A table's feature columns, written as float32 rows only when asked.

    Numbers as they are, categories one-hot, NaN where missing: indexing and
    `np.asarray` write them. `prepared` writes the split's parts already
    imputed and scaled, with statistics from the training rows' columns, so
    each part is written once and the whole table never is.
    """

    dtype = np.dtype("float32")
    ndim = 2

    def __init__(self, columns):
        self.columns = columns
        self.shape = (len(columns[0]), sum(column.width for column in columns))

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, int | np.integer):
            return self.take([key])[0]
        return self.take(np.arange(len(self))[key])

    def __array__(self, dtype=None, copy=None):
        x = self.take(np.arange(len(self)))
        return x if dtype is None else x.astype(dtype)

    def reshape(self, *shape):
        return np.asarray(self).reshape(*shape)

    def take(self, positions, axis=0):
        """The features of the rows at `positions`, unscaled (NaN where missing)."""
        positions = np.asarray(positions, dtype="int64").reshape(-1)
        if len(positions) and (positions.min() < -len(self) or positions.max() >= len(self)):
            raise IndexError(f"positions out of range for {len(self)} rows")
        return self._write([positions % len(self)])[0]

    def laid_out(self):
        """The columns row by row as they are (`_Layout`): it does not depend on the split."""
        layout = _Layout(self.columns)
        _in_parallel(layout.lay_out, range(0, len(self), PARALLEL_ROWS))
        return layout

    def _write(self, parts, fill=None, scaling=None, layout=None):
        """Writes the rows of each part (positions, or None), imputed and scaled.

        `fill` and `scaling` hold a value per feature. The columns are first laid out
        row by row (`_Layout`, unless given), so that each part gathers a row's values
        with one random access, not one per column; blocks of rows are written side by side.
        """
        layout = layout or self.laid_out()
        filling = layout.filling(fill, scaling)
        outputs = [
            None if p is None else np.empty((len(p), self.shape[1]), "float32") for p in parts
        ]
        blocks = [
            (output, positions, first)
            for output, positions in zip(outputs, parts, strict=True)
            if positions is not None
            for first in range(0, len(positions), PARALLEL_ROWS)
        ]
        _in_parallel(lambda block: layout.gather(*block, filling), blocks)
        return outputs

    def prepared(self, parts, missing, normalization, layout=None, last_use=False):
        """The split's parts (positions, or None), imputed and scaled as the contract says.

        The same values `impute` and `normalize` give on the written features,
        with their statistics computed from the training rows' columns.
        `layout`: these columns already `laid_out()` (while the split was drawn).
        `last_use`: nothing reads these features afterwards, so the number columns
        let go of their values once their statistics are taken (the layout holds
        them): they and the parts are then never in memory together.
        """
        train = np.zeros(len(self), dtype=bool)
        train[parts[0]] = True
        # In order: the columns' values are then read forwards (and summed as before).
        train = np.flatnonzero(train)
        fills, means, variances, lows, highs = (
            np.concatenate(values)
            for values in zip(
                *_in_parallel(lambda column: column.statistics(train, missing), self.columns),
                strict=True,
            )
        )
        scaling = None
        if normalization == "standard":  # StandardScaler: near-constant features keep scale 1
            eps = np.finfo("float64").eps
            count = len(parts[0])
            constant = variances <= count * eps * variances + (count * means * eps) ** 2
            scales = np.where(constant, 1.0, np.sqrt(variances))
            scaling = ("standard", means.astype("float32"), scales.astype("float32"))
        elif normalization == "minmax":  # MinMaxScaler to [0, 1], in float32 as it computes
            ranges = highs - lows
            scales = np.float32(1) / np.where(ranges < 10 * np.finfo("float32").eps, 1, ranges)
            scaling = ("minmax", scales, np.float32(0) - lows * scales)
        fill = None if missing == "drop" else fills
        if last_use and layout is not None:
            for column in self.columns:
                column.forget_numbers()
            _release_arrow_memory()  # values read straight from the CSV live in pyarrow's pool
        return self._write(parts, fill, scaling, layout)


class _Layout:
    """A table's columns row by row, and how rows become features.

    `source` holds the number columns (in order, as read: NaN where missing), then
    each category column's one-hot slot as int32 bits: one row per table row. It does
    not depend on the split, so `prepare` lays it out while the split is drawn; each
    gathered block of rows is then filled and scaled while it is in the CPU's cache.
    """

    def __init__(self, columns):
        starts = np.cumsum([0] + [column.width for column in columns])
        self.numbers = [(starts[i], c) for i, c in enumerate(columns) if c.codes is None]
        self.categories = [(starts[i], c) for i, c in enumerate(columns) if c.codes is not None]
        self.runs = _runs([start for start, _ in self.numbers])
        for _, column in self.categories:
            column.slots()  # once, before threads read them
        rows = len(columns[0])
        width = len(self.numbers) + len(self.categories)
        self.source = np.empty((rows, width), dtype="float32")
        self.features = int(starts[-1])

    def lay_out(self, first):
        """Writes the source's rows from `first` on (PARALLEL_ROWS of them)."""
        slots = self.source.view("int32")
        for start in range(first, min(first + PARALLEL_ROWS, len(self.source)), FILL_ROWS):
            # a block that stays in the CPU's cache while every column writes into it
            rows = slice(start, start + FILL_ROWS)
            for index, (_, column) in enumerate(self.numbers):
                self.source[rows, index] = column.numbers[rows]
            for index, (_, column) in enumerate(self.categories, len(self.numbers)):
                slots[rows, index] = column.slots()[rows]

    def filling(self, fill, scaling):
        """(the number columns' fill, their scaling, one-hot tables): what gather applies.

        `fill` and `scaling` hold a value per feature; the one-hot tables already
        hold the categories' fill and scaling (`_Column.one_hot_rows`).
        """
        at = np.array([start for start, _ in self.numbers], dtype="int64")
        fills = None if fill is None else fill[at]
        scales = None if scaling is None else (scaling[0], scaling[1][at], scaling[2][at])
        one_hot = []
        for index, (start, column) in enumerate(self.categories, len(self.numbers)):
            if column.width:
                features = slice(start, start + column.width)
                table = column.one_hot_rows(
                    None if fill is None else fill[features],
                    None if scaling is None else tuple(s[features] for s in scaling[1:]),
                    scaling and scaling[0],
                )
                one_hot.append((index, start, column.width, table))
        return fills, scales, one_hot

    def gather(self, output, positions, first, filling):
        """Writes output[first:] (PARALLEL_ROWS rows at most): the source rows at positions.

        `filling`: what `filling` returned, applied to each block as it is gathered.
        """
        fills, scales, one_hot = filling
        chunk = positions[first : first + PARALLEL_ROWS]
        gathered = np.empty((min(FILL_ROWS, len(chunk)), self.source.shape[1]), "float32")
        looked_up = {}
        for start in range(0, len(chunk), FILL_ROWS):
            wanted = chunk[start : start + FILL_ROWS]
            rows = gathered[: len(wanted)]
            np.take(self.source, wanted, axis=0, out=rows, mode="clip")
            values = rows[:, : len(self.numbers)]
            if fills is not None:
                np.copyto(values, np.broadcast_to(fills, values.shape), where=np.isnan(values))
            _scale(values, scales)
            block = output[first + start : first + start + len(wanted)]
            for feature, index, count in self.runs:
                block[:, feature : feature + count] = rows[:, index : index + count]
            slots = rows.view("int32")
            for index, feature, width, table in one_hot:
                if table.shape[1] not in looked_up:
                    looked_up[table.shape[1]] = np.empty((len(gathered), table.shape[1]), "float32")
                features = looked_up[table.shape[1]][: len(wanted)]
                np.take(table, slots[:, index], axis=0, out=features, mode="clip")
                block[:, feature : feature + width] = features[:, :width]


def _in_parallel(function, items):
    """function(item) for each of `items`, on as many threads as the machine has cores.

    NumPy lets go of Python's lock in its loops, so blocks of rows are written side by side.
    """
    from concurrent.futures import ThreadPoolExecutor

    items = list(items)
    workers = min(len(items), os.cpu_count() or 1, MAX_THREADS)
    if workers <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))


def _alongside(foreground, background):
    """(foreground(), background()): the second runs on a thread of its own meanwhile."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(background)
        return foreground(), running.result()


def _scale(values, scaling):
    """Scales `values` in place: the float32 arithmetic of scikit-learn's scalers' transform.

    Args:
        values: float32 features, one per column.
        scaling: None, or ("standard", means, scales) or ("minmax", scales, offsets),
            float32 per column.
    """
    if scaling is None:
        return
    method, first, second = scaling
    if method == "standard":
        values -= first
        values /= second
    else:
        values *= first
        values += second


def _runs(starts):
    """Consecutive features among `starts`: (first feature, index in starts, count) each."""
    runs = []
    for index, start in enumerate(starts):
        if runs and runs[-1][0] + runs[-1][2] == start:
            runs[-1][2] += 1
        else:
            runs.append([start, index, 1])
    return runs


def _release_arrow_memory():
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _text_as_categories(texts):
    categories, codes = np.unique(texts, return_inverse=True)
    return codes.astype("int32"), tuple(str(category) for category in categories)


def _target(path, settings, column, rows):
    """(y for every row, task, class names) from the target column's kept `rows`."""
    target = column.name
    if column.codes is None:
        where = f"{path}: column {target!r}"
        y_kept, task, classes = _encode_target(column.numbers.take(rows), None, where)
    else:  # codes rank the categories by name already: only the ones present remain
        codes = column.codes.take(rows)
        present = np.flatnonzero(np.bincount(codes, minlength=len(column.categories)))
        rank = np.zeros(len(column.categories) + 1, dtype="int64")
        rank[present] = np.arange(len(present))
        y_kept = rank[codes]  # searchsorted(present, codes), as one lookup per row
        task, classes = "classification", tuple(column.categories[i] for i in present)
    if settings["target"] != "inputs":
        _check_classes(y_kept, task, classes, f"{path}: target column {target!r}")
    y = np.zeros(len(column), dtype=y_kept.dtype)
    y[rows] = y_kept
    return y, task, classes


def _first_nul(texts):
    """The index of the first of `texts` (a NumPy string array) holding a NUL, or None.

    NumPy pads strings with NULs and its string functions cannot search for one: a
    NUL inside a text is a zero code followed by a non-zero one.
    """
    width = texts.dtype.itemsize // 4
    if width < 2:
        return None
    codes = texts.reshape(-1).view(np.uint32).reshape(len(texts), width)
    step = max(1, (1 << 24) // width)  # rows at a time: bounds the masks' memory
    for start in range(0, len(texts), step):
        present = codes[start : start + step] != 0
        inside = (present[:, 1:] & ~present[:, :-1]).any(axis=1)
        if inside.any():
            return start + int(np.argmax(inside))
    return None


def _text_table(path, settings, texts, columns, target_column):
    """A table whose one feature is free text: samples are its strings."""
    if len(columns) > 1:
        others = ", ".join(c.name for c in columns if c is not texts[0])
        raise DataError(
            f"{path}: column {texts[0].name!r} holds free text, which must be the only "
            f"feature column; leave out the others ({others}) or save them in another file"
        )
    text = texts[0]
    # Keras's vocabulary comes back through NumPy strings, which drop a word's
    # trailing NUL: the trained model could then not be rebuilt or loaded.
    nul = _first_nul(text.text)
    if nul is not None:
        raise DataError(
            f"{path}: row {_row_of(path, nul)}, column {text.name!r}: the text holds a NUL "
            "character (byte 0), which text models cannot learn words from; remove it"
        )
    rows = np.flatnonzero(~target_column.missing)
    if len(rows) == 0:
        raise DataError(f"{path}: no rows with a target value")
    y, task, classes = _target(path, settings, target_column, rows)
    name = target_column.name
    return RawData(text.text[:, None], y, task, classes, (text.name,), rows=rows, target_name=name)


def load_table(path, settings):
    """Reads a CSV or Parquet file (see the module docstring for the rules)."""
    if path.suffix.lower() in TABLE_SUFFIXES:
        table = _read_parquet(path)
    else:
        table = _read_csv(path, settings["target_column"])
    header = [name.strip() for name in table.column_names]
    if table.num_rows == 0:
        parquet = path.suffix.lower() in TABLE_SUFFIXES
        raise DataError(
            f"{path}: {'has no rows' if parquet else 'has a header row but no data rows'}"
        )
    if len(header) < 2 and settings["target"] != "inputs":
        raise DataError(f"{path}: needs at least 2 columns (features and a target)")
    target = settings["target_column"] or header[-1]
    if target not in header:
        raise DataError(
            f"{path}: no column {target!r} for target_column. Columns: {', '.join(header)}"
        )
    target_index = header.index(target)
    if header.count(target) > 1:  # which one is meant? The other would be a feature: a leak
        numbers = [str(i + 1) for i, name in enumerate(header) if name == target]
        raise DataError(
            f"{path}: columns {' and '.join(numbers)} are both named {target!r}, the target; "
            "give each column its own name"
        )
    arrays = table.columns
    del table

    def column(index):
        read = _Column(path, header[index], arrays[index], exact=index == target_index)
        arrays[index] = None  # pyarrow's copy is no longer needed
        return read

    # side by side (pyarrow and NumPy let go of Python's lock); the first column at
    # fault, in order, is the one reported
    columns = _in_parallel(column, range(len(header)))
    _release_arrow_memory()
    target_column = columns.pop(target_index)
    if target_column.text is not None:
        target_column.codes, target_column.categories = _text_as_categories(target_column.text)
    texts = [column for column in columns if column.text is not None]
    if texts:
        return _text_table(path, settings, texts, columns, target_column)
    # Rows without a target are left out; rows where every cell is missing (blank
    # lines) are among them, so no other column's mask needs to be made here.
    keep = ~target_column.missing
    if not keep.any():
        trailing = " (do the rows end with a delimiter? Then the last column is empty)"
        raise DataError(
            f"{path}: target column {target!r} has no value in any row"
            + (trailing if not target and target_index == len(header) - 1 else "")
        )
    if not columns:
        raise DataError(f"{path}: has no feature columns besides target {target!r}")
    for column in columns:
        if column.codes is not None and len(column.categories) > MAX_CATEGORIES:
            raise DataError(
                f"{path}: column {column.name!r} has {len(column.categories):,} distinct "
                f"values; one-hot encoding takes at most {MAX_CATEGORIES:,}: leave the "
                "column out"
            )
    names = []
    for column in columns:
        if column.codes is None:
            names.append(column.name)
        else:
            names.extend(f"{column.name}={k}" for k in column.categories)
        if settings["missing"] == "drop":
            keep &= ~column.missing
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        empty = [repr(column.name) for column in columns if column.missing.all()]
        if len(empty) == 1:
            cause = f": column {empty[0]} is empty in every row; remove it, or"
        elif empty:
            more = f" and {len(empty) - 5} more" if len(empty) > 5 else ""
            cause = (
                f": columns {', '.join(empty[:5])}{more} are empty in every row; remove them, or"
            )
        else:
            cause = ";"
        raise DataError(
            f"{path}: no rows left after dropping rows with missing values{cause} "
            "set missing to mean, median or most_frequent"
        )
    y, task, classes = _target(path, settings, target_column, rows)
    x = TableFeatures(columns)
    return RawData(x, y, task, classes, tuple(names), rows=rows, target_name=target)


# NumPy files. --------------------------------------------------------------------------


def _numeric(array, where):
    numeric = np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    if not (numeric or array.dtype == bool):
        raise DataError(f"{where} must be numeric. Received: dtype {array.dtype}")
    return array


def _check_npy_size(path):
    """Refuses a .npy whose header declares more data than the file holds, before
    NumPy allocates it (a cut-off file declaring terabytes ended in a MemoryError)."""
    try:
        with path.open("rb") as file:
            version = np.lib.format.read_magic(file)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(file)
            start = file.tell()
    except (ValueError, OSError, EOFError):
        return  # np.load says what is wrong with the header
    declared = math.prod(shape) * dtype.itemsize
    held = path.stat().st_size - start
    if dtype.hasobject or declared <= held:
        return
    raise DataError(
        f"{path}: not a readable NumPy file (cut off: its header declares an array of shape "
        f"{shape}, {declared:,} bytes, but the file holds {held:,})"
    )


def _load_array_file(path):
    check_file(path, "a .npy or .npz file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            declared = sum(member.file_size for member in archive.infolist())
        if declared > MAX_FILE_MB * 2**20:
            raise DataError(
                f"{path}: its arrays unpack to {declared / 2**20:.0f} MB, over the limit of "
                f"{MAX_FILE_MB} MB; set the environment variable DEEPWIRE_MAX_DATA_MB to raise it"
            )
    else:
        with path.open("rb") as file:
            if file.read(6) != b"\x93NUMPY":  # NumPy would take it for pickled objects
                raise DataError(f"{path}: not a readable NumPy file (no .npy or .npz header)")
        _check_npy_size(path)
    try:
        return np.load(path, allow_pickle=False)
    except MemoryError:
        raise DataError(f"{path}: its arrays are too large to load into memory") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not a readable NumPy file ({error})") from None


def _classes_from_numbers(y, where, target):
    y = _numeric(y, where)
    if y.ndim != 1:
        raise DataError(f"{where} must be 1-D (one target per sample). Received: shape {y.shape}")
    finite = np.isfinite(y.astype("float64"))
    if target != "inputs" and not finite.all():
        raise DataError(
            f"{where} of sample {int(np.argmin(finite))} is missing or infinite; "
            "every sample needs a target"
        )
    result = _encode_target(y.astype("float64"), [], where)
    if target != "inputs":
        _check_classes(result[0], result[1], result[2], where)
    return result


def load_numpy(path, settings):
    """Reads `.npz` (x and y arrays) or `.npy` (target in a column); see the module docstring."""
    loaded = _load_array_file(path)
    target = settings["target"]
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            x_key = next((k for k in X_KEYS if k in loaded.files), None)
            y_key = next((k for k in Y_KEYS if k in loaded.files), None)
            if x_key is None or (y_key is None and target != "inputs"):
                raise DataError(
                    f"{path}: expected arrays named x and y. Received: {', '.join(loaded.files)}"
                )
            reading = x_key
            try:
                x = loaded[x_key]
                reading = y_key
                y = loaded[y_key] if y_key else None
            except MemoryError:
                raise DataError(f"{path}: its arrays are too large to load into memory") from None
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
                raise DataError(f"{path}: array {reading}: {error}") from None
        for key, array in ((x_key, x), (y_key, y)):
            if key and not isinstance(array, np.ndarray):  # NpzFile gives a member's bytes
                raise DataError(f"{path}: {key} is not a NumPy array (not a .npy file inside)")
        x = _numeric(x, f"{path}: array {x_key}")
        if x.ndim < 2:
            raise DataError(
                f"{path}: array {x_key} needs one sample per row (at least 2-D). "
                f"Received: shape {x.shape}"
            )
        y = np.zeros(len(x)) if y is None or target == "inputs" else y  # inputs: y unused
        if y.ndim == 0:
            raise DataError(
                f"{path}: array {y_key} must be 1-D (one target per sample). Received: shape ()"
            )
        if len(y) != len(x):
            raise DataError(f"{path}: {x_key} has {len(x)} samples but {y_key} has {len(y)}")
    else:
        data = _numeric(loaded, f"{path}: array")
        if data.ndim != 2 or data.shape[1] < 2:
            raise DataError(
                f"{path}: a .npy file must be a 2-D array with the target in a column. "
                f"Received: shape {data.shape}"
            )
        column = settings["target_column"] or "-1"
        try:
            index = int(column)
        except ValueError:
            raise DataError(
                f"{path}: target_column must be a column number for a .npy file. "
                f"Received: {column!r}"
            ) from None
        columns = data.shape[1]
        if not -columns <= index < columns:
            raise DataError(
                f"{path}: target_column {column} is out of range: the array has {columns} "
                f"columns, numbered 0 to {columns - 1} (or -1 for the last)"
            )
        index %= columns
        y = data[:, index]
        x = np.delete(data, index, axis=1)
    if len(x) == 0:
        raise DataError(f"{path}: contains no samples")
    x = x.astype("float32")
    infinite = np.isinf(x.reshape(len(x), -1)).any(axis=1)
    if infinite.any():
        raise DataError(
            f"{path}: sample {int(np.argmax(infinite))} holds an infinite value; "
            "replace it, or use NaN to mark it missing"
        )
    y, task, classes = _classes_from_numbers(y, f"{path}: target", target)
    rows = None
    if settings["missing"] == "drop":
        rows = np.flatnonzero(~np.isnan(x.reshape(len(x), -1)).any(axis=1))
        if len(rows) == 0:
            raise DataError(f"{path}: no samples left after dropping those with missing values")
    images = x.ndim == 4 and x.shape[-1] in (1, 3)
    names = tuple(f"f{i}" for i in range(math.prod(x.shape[1:])))
    return RawData(x, y, task, classes, names, images=images, rows=rows)


# Image folders: files decoded when read, streamed with tf.data. ----------------------


def image_files(path):
    """(class names, files, class ids) of an image folder, checked before reading.

    The files come as one NumPy array of paths (str) and the class ids as int64,
    not as a Path object per file: for a large folder those objects, and the
    heap they leave fragmented, would outweigh what training holds.
    """
    if not path.exists():
        raise DataError(f"{path}: no such folder (expected one sub-folder of images per class)")
    if not path.is_dir():
        raise DataError(f"{path}: not a folder (expected one sub-folder of images per class)")
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    files, counts = [], []
    for folder in classes:
        with os.scandir(folder) as entries:
            names = sorted(
                entry.name
                for entry in entries
                if os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES
            )
        prefix = f"{folder}{os.sep}"
        files.append(np.char.add(prefix, np.asarray(names, dtype=str)))
        counts.append(len(names))
    if not sum(counts):
        raise DataError(
            f"{path}: no images found; expected one sub-folder per class holding "
            f"{', '.join(IMAGE_SUFFIXES)} files"
        )
    if 0 in counts:  # a class no sample can teach: its label would be past the model's units
        empty = classes[counts.index(0)]
        raise DataError(
            f"{empty}: a class folder with no {', '.join(IMAGE_SUFFIXES)} files; add images "
            "to it or remove it"
        )
    labels = np.repeat(np.arange(len(classes), dtype="int64"), counts)
    return tuple(p.name for p in classes), np.concatenate(files), labels


def _declared_size(path):
    """(width, height) as an image file's header declares them, nothing decoded; None: unknown.

    PNG, GIF and BMP keep both at fixed places of their first bytes; a JPEG's frame
    header may come after any number of segments, so Pillow finds it.
    """
    try:
        with open(path, "rb") as file:
            head = file.read(26)
    except OSError:
        return None  # reading it for decoding says what is wrong
    if len(head) < 26:
        return None
    if head.startswith(b"\x89PNG"):
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head.startswith(b"GIF8"):
        return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    if head.startswith(b"BM"):  # rows stored top first have a negative height
        height = int.from_bytes(head[22:26], "little", signed=True)
        return int.from_bytes(head[18:22], "little", signed=True), abs(height)
    if head.startswith(b"\xff\xd8"):
        # Pillow's JPEG reader itself, not Image.open: that one refuses large images with
        # its own limit and message; this one only reads the header, whatever the size
        try:
            from PIL import JpegImagePlugin
        except ImportError:  # an exported script's environment may lack it
            return None
        try:
            with JpegImagePlugin.JpegImageFile(path) as image:
                return image.size
        except (OSError, SyntaxError, ValueError):
            return None  # the decoder will say what is wrong
    return None


def undecodable_image(path):
    """Why the image file at `path` must not be decoded, or None; nothing is decoded.

    Not a regular file (a broken link, a folder or pipe named like an image), over
    the size limit, or declaring too many pixels.
    """
    return file_problem(path, "an image file") or oversized_image(path)


def oversized_image(path):
    """Why the image file at `path` must not be decoded (too many pixels), or None."""
    size = _declared_size(path)
    if size is None or size[0] * size[1] <= MAX_IMAGE_PIXELS:
        return None
    return (
        f"it declares {size[0]:,} x {size[1]:,} pixels, over the limit of "
        f"{MAX_IMAGE_PIXELS:,}; shrink it"
    )


def _decode_image(path, size, channels):
    """One image file -> float32 tensor (height, width, channels) of values in [0, 255].

    Files the load's scan has not read are checked first (`read_image_file`).
    """
    import tensorflow as tf

    contents = tf.io.read_file(path)
    if channels == 1:  # TensorFlow decodes a GIF in colour only: grey from its colours
        image = tf.cond(
            tf.strings.substr(contents, 0, 3) == "GIF",
            lambda: tf.image.rgb_to_grayscale(_decoded(contents, 3)),
            lambda: _decoded(contents, 1),
        )
    else:
        image = _decoded(contents, channels)
    image.set_shape((None, None, channels))
    return tf.image.resize(tf.cast(image, "float32"), size)


def _decoded(contents, channels):
    import tensorflow as tf

    image = tf.io.decode_image(contents, channels=channels, expand_animations=False)
    image.set_shape((None, None, channels))
    return image


def _unreadable(error):
    """TensorFlow's reason, without its op and function names."""
    message = getattr(error, "message", str(error)).splitlines()[0]
    message = re.sub(r"\{\{[^}]*\}\}|\[Op:.*$", "", message)
    return message.strip() or "not an image"


def read_image_file(path, size, channels):
    """One image file the load's scan has not read -> float32 array (height, width, channels).

    Raises:
        DataError: naming the file, when it declares too many pixels or cannot be decoded.
    """
    import tensorflow as tf

    problem = undecodable_image(path)
    if problem:
        raise DataError(f"{path}: not a readable image ({problem})")
    try:
        return _decode_image(str(path), size, channels).numpy()
    except (tf.errors.OpError, ValueError) as error:
        raise DataError(f"{path}: not a readable image ({_unreadable(error)})") from None


class ImageFiles:
    """Images of a folder, read only when needed: a float32 array of shape (n, h, w, c).

    Indexing (a number, a slice, positions) decodes just those images;
    `take(positions)` picks files without decoding any; `np.asarray` decodes
    them all; `image_pipeline` streams them to Keras. Scaling fitted on the
    training split is kept as `x * multiply + add` per pixel and applied on
    every read, so every reader sees the same values.
    """

    dtype = np.dtype("float32")
    ndim = 4

    def __init__(self, files, size, channels, cache="none", scaling=None, sample_shape=None):
        self.files = np.asarray(files, dtype=str).reshape(-1)
        self.size, self.channels, self.cache = tuple(size), channels, cache
        self.scaling = scaling
        self.shape = (len(self.files), *(sample_shape or (*self.size, channels)))

    def __len__(self):
        return len(self.files)

    def _like(self, files=None, scaling=None, sample_shape=None):
        return ImageFiles(
            self.files if files is None else files,
            self.size,
            self.channels,
            self.cache,
            scaling or self.scaling,
            sample_shape or self.shape[1:],
        )

    def take(self, positions, axis=0):
        """These images at `positions`, still undecoded (as numpy's take along axis 0)."""
        return self._like(files=self.files[np.asarray(positions, dtype="int64")])

    def scaled(self, scaling):
        """These images with `scaling` = (multiply, add), float32 arrays of one image's shape."""
        return self._like(scaling=scaling)

    def joined(self, other):
        """These images followed by `other`'s (read alike: same size, channels and scaling)."""
        return self._like(files=np.concatenate([self.files, other.files]))

    def reshaped(self, sample_shape):
        """These images, each read in `sample_shape` (same number of values), e.g. flat."""
        return self._like(sample_shape=tuple(sample_shape))

    def arrange(self, images):
        """Decoded images (a NumPy array or a tensor) scaled and shaped as this set reads them."""
        if self.scaling is not None:
            images = images * self.scaling[0] + self.scaling[1]
        if isinstance(images, np.ndarray):
            return images.reshape(-1, *self.shape[1:])
        return _reshape(images, self.shape[1:])

    def __getitem__(self, key):
        if isinstance(key, int | np.integer):
            return self._read(self.files[[key]])[0]
        return self._read(np.atleast_1d(self.files[key]))

    def __array__(self, dtype=None, copy=None):
        images = self._read(self.files)
        return images if dtype is None else images.astype(dtype)

    def _read(self, files):
        images = np.empty((len(files), *self.size, self.channels), dtype="float32")
        for index, file in enumerate(files):
            images[index] = read_image_file(file, self.size, self.channels)
        return self.arrange(images)

    def describe_cache(self):
        """Where a disk cache of exactly these files, size and channels lives."""
        import hashlib
        import tempfile

        key = hashlib.sha256(repr((self.size, self.channels)).encode())
        for file in self.files:
            info = os.stat(file)
            key.update(f"{file}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
        folder = Path(tempfile.gettempdir()) / "deepwire-image-cache"
        folder.mkdir(exist_ok=True)
        return str(folder / key.hexdigest()[:32])


def _reshape(images, sample_shape):
    import tensorflow as tf

    return tf.reshape(images, (-1, *sample_shape))


def _bounded(data):
    """`data` with its autotuned buffers held within PIPELINE_RAM_MB."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.ram_budget = PIPELINE_RAM_MB * 2**20
    return data.with_options(options)


def image_pipeline(x, y=None, batch_size=32, shuffle=False, seed=0):
    """A tf.data pipeline that decodes, resizes, scales and batches image files.

    Files are read in parallel and prefetched, so memory holds a few batches,
    not the folder. With `x.cache` "memory" or "disk" the decoded images are
    kept after the first pass (on disk, in a file named after the images,
    under the temporary folder); shuffling then draws from a bounded buffer.
    Without targets (prediction) the order is the files' order.

    Args:
        x: The ImageFiles to read.
        y: Targets, one per image (an array, a list of arrays, or ImageFiles
            of the same files to reconstruct the input), or None.
        batch_size: Images per batch.
        shuffle: Reshuffle every epoch (training).
        seed: Seed of the shuffle.
    """
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    reconstruct = isinstance(y, ImageFiles)
    columns = (x.files,)
    if y is not None and not reconstruct:
        columns += (tuple(y) if isinstance(y, list) else y,)
    if shuffle and x.cache == "none":
        data = _shuffled_rows(columns, len(x), seed)
    else:
        data = tf.data.Dataset.from_tensor_slices(columns if len(columns) > 1 else columns[0])

    def decode(path, *target):  # files the load's scan read: none too large
        return (_decode_image(path, x.size, x.channels), *target)

    data = data.map(decode, num_parallel_calls=autotune)
    if x.cache != "none":
        data = data.cache(x.describe_cache() if x.cache == "disk" else "")
        if shuffle:
            data = data.shuffle(min(len(x), SHUFFLE_BUFFER), seed=seed)
    data = data.batch(batch_size)

    def scale(images, *target):
        if reconstruct:
            return x.arrange(images), y.arrange(images)
        return x.arrange(images) if not target else (x.arrange(images), target[0])

    # no step for batches that are already what x reads (unscaled, as decoded)
    if reconstruct or x.scaling is not None or x.shape[1:] != (*x.size, x.channels):
        data = data.map(scale, num_parallel_calls=autotune)
    return _bounded(data.prefetch(autotune))


def _shuffled_rows(columns, count, seed):
    """The rows of `columns` (arrays of `count` rows) in a new random order every epoch.

    Shuffles positions, one tensor of `count` int64, and gathers the columns in
    that order once per epoch (one copy of the file names and targets, then
    cut into rows): a tf.data shuffle buffer would hold every element as
    tensors of their own, about 1 KB each, so memory would grow with the folder,
    and gathering row by row costs a step of the pipeline per image.
    The order depends only on `seed` and the epoch.
    """
    import tensorflow as tf

    table = tf.nest.map_structure(tf.convert_to_tensor, columns)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)

    # Plain tensor code: autograph's conversion would only cost time.
    @tf.autograph.experimental.do_not_convert
    def shuffled(drawn):
        pair = tf.stack([drawn, tf.constant(seed, "int64")])
        order = tf.random.experimental.stateless_shuffle(tf.range(count, dtype="int64"), pair)
        picked = tf.nest.map_structure(lambda column: tf.gather(column, order), table)
        return picked if len(picked) > 1 else picked[0]

    return seeds.map(shuffled).unbatch()


def feed(x, y=None, batch_size=32, shuffle=False, seed=0):
    """Keyword arguments that hand `x` (and `y`) to Keras's fit, evaluate or predict.

    Arrays go as they are; ImageFiles go as a streaming tf.data pipeline.
    `shuffle` (for fit only) reshuffles the training samples every epoch.
    """
    if isinstance(x, ImageFiles):
        arguments = {"x": image_pipeline(x, y, batch_size, shuffle, seed)}
        return {**arguments, "shuffle": False} if shuffle else arguments  # shuffled already
    arguments = {"x": x, "batch_size": batch_size}
    if y is not None:
        arguments["y"] = y
    return {**arguments, "shuffle": True} if shuffle else arguments


def flowing_into(upstream, x, batch_size=256):
    """What `upstream` (a model from the Inputs to a layer) outputs on `x`, to adapt that layer.

    Arrays give an array. Image files give a tf.data stream of batches, which a
    Normalization layer adapts to batch by batch: the split is never decoded whole.
    """
    if not isinstance(x, ImageFiles):
        return upstream.predict(**feed(x, batch_size=1024), verbose=0)
    return image_pipeline(x, batch_size=batch_size).map(
        lambda images: upstream(images, training=False)
    )


def validation_data(x, y, batch_size=32):
    """Keras's validation_data for `x` and `y`: the arrays, or an image pipeline."""
    if isinstance(x, ImageFiles):
        return image_pipeline(x, y, batch_size)
    return (x, y)


def scan_images(x, train, normalization):
    """Decodes every image once: which ones are unreadable, and the training split's scaling.

    Args:
        x: The ImageFiles of the whole folder.
        train: Positions (in x) of the training images.
        normalization: "standard", "minmax" or "none" (fitted per pixel on train).

    Returns:
        (positions of unreadable images, "file (reason)" for each, scaling or None).
    """
    import tensorflow as tf

    scaler = {"standard": StandardScaler, "minmax": MinMaxScaler}.get(normalization)
    scaler = scaler() if scaler else None
    in_train = np.zeros(len(x), dtype=bool)
    in_train[train] = True
    read = np.zeros(len(x), dtype=bool)
    # files and headers first: what is no regular file or declares too many pixels is
    # left out without being opened or decoded
    refused = [undecodable_image(file) for file in x.files]
    scanned = np.flatnonzero([reason is None for reason in refused])
    positions = tf.data.Dataset.from_tensor_slices((scanned, x.files[scanned]))
    data = positions.map(
        lambda i, path: (i, _decode_image(path, x.size, x.channels)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    data = _bounded(data.ignore_errors().batch(SCAN_BATCH).prefetch(tf.data.AUTOTUNE))
    for indices, images in data.as_numpy_iterator():
        read[indices] = True
        fit = in_train[indices]
        if scaler is not None and fit.any():
            scaler.partial_fit(images[fit].reshape(int(fit.sum()), -1))
    bad = np.flatnonzero(~read)
    reasons = []
    for position in bad:
        if refused[position]:
            reasons.append(f"{x.files[position]} ({refused[position]})")
            continue
        try:
            _decode_image(x.files[position], x.size, x.channels)
            reasons.append(f"{x.files[position]} (could not be read)")
        except (tf.errors.OpError, ValueError) as error:
            reasons.append(f"{x.files[position]} ({_unreadable(error)})")
    if scaler is None or not hasattr(scaler, "scale_"):
        return bad, tuple(reasons), None
    shape = x.shape[1:]
    if normalization == "standard":
        multiply, add = 1 / scaler.scale_, -scaler.mean_ / scaler.scale_
    else:
        multiply, add = scaler.scale_, scaler.min_
    return (
        bad,
        tuple(reasons),
        (
            multiply.reshape(shape).astype("float32"),
            add.reshape(shape).astype("float32"),
        ),
    )


def load_image_folder(path, settings):
    """One sub-folder of images per class (see the module docstring); nothing decoded yet."""
    classes, files, y = image_files(path)
    channels = 1 if settings["color_mode"] == "grayscale" else 3
    x = ImageFiles(files, settings["image_size"], channels, settings["image_cache"])
    if settings["target"] != "inputs":
        _check_classes(y, "classification", classes, f"{path}: the image folder")
    features = tuple(f"p{i}" for i in range(math.prod(x.shape[1:])))
    return RawData(x, y, "classification", classes, features, images=True)


def load_raw(settings, path=None):
    """The raw data of `settings`: a built-in dataset, or the file or folder at `path`."""
    source = settings["source"]
    if source == "builtin":
        return BUILTINS[settings["name"]](settings)
    loaders = {"csv": load_table, "numpy": load_numpy, "image_folder": load_image_folder}
    return loaders[source](path, settings)


# Cleaning, splitting and scaling, every statistic fitted on the training split. ---------


def unique_rows(x, y):
    """Positions of the first occurrence of every distinct (features, target) row, in order."""
    if x.dtype.kind == "U":
        first = {}
        for position, key in enumerate(zip(x.reshape(len(x), -1)[:, 0], y.tolist(), strict=True)):
            first.setdefault(key, position)
        return np.array(sorted(first.values()), dtype="int64")
    rows = np.concatenate(
        [x.reshape(len(x), -1).astype("float64"), y.reshape(len(y), -1).astype("float64")], axis=1
    )
    _, first = np.unique(rows, axis=0, return_index=True)
    return np.sort(first)


def _approximate_mode(class_counts, draws, rng):
    """Samples per class for `draws` samples, as scikit-learn's stratified split picks them."""
    continuous = class_counts / class_counts.sum() * draws
    floored = np.floor(continuous)
    need = int(draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            now = min(len(tied), need)
            floored[rng.choice(tied, size=now, replace=False)] += 1
            need -= now
            if need == 0:
                break
    return floored.astype(int)


def _classes_of(y):
    """np.unique(y, return_inverse=True, return_counts=True), counted by id for class ids."""
    counts = _class_counts(y)
    if counts is not None:
        classes = np.flatnonzero(counts)
        rank = np.zeros(len(counts), dtype="int64")
        rank[classes] = np.arange(len(classes))
        return classes.astype(y.dtype), rank[y], counts[classes]
    return np.unique(y, return_inverse=True, return_counts=True)


def _split_sizes(samples, test_size):
    """The train and test sizes train_test_split takes, with its checks and messages.

    The same as scikit-learn's (private) _validate_shuffle_split without a train_size,
    without drawing the permutation that ShuffleSplit would throw away here.
    """
    kind = np.asarray(test_size).dtype.kind
    if (kind == "i" and not 0 < test_size < samples) or (kind == "f" and not 0 < test_size < 1):
        raise ValueError(
            f"test_size={test_size} should be either positive and smaller than the number "
            f"of samples {samples} or a float in the (0, 1) range"
        )
    if kind not in "if":
        raise ValueError(f"Invalid value for test_size: {test_size}")
    n_test = math.ceil(test_size * samples) if kind == "f" else int(test_size)
    if samples - n_test == 0:
        raise ValueError(
            f"With n_samples={samples}, test_size={test_size} and train_size=None, the "
            "resulting train set will be empty. Adjust any of the aforementioned parameters."
        )
    return samples - n_test, n_test


def _train_test(positions, test_size, seed, y=None, class_names=()):
    """train_test_split(positions, test_size=..., random_state=seed, stratify=y), faster.

    scikit-learn's stratified split gathers a million positions one by one in a
    Python list; this draws the same random numbers in the same order with arrays,
    so the parts are the same (a test compares).
    """
    if y is None:
        shuffled = ShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        train, test = next(shuffled.split(positions))
        return positions[train], positions[test]
    n_train, n_test = _split_sizes(len(positions), test_size)
    classes, y_indices, class_counts = _classes_of(y)
    if np.min(class_counts) < 2:  # the rules of scikit-learn's split, in our words
        lonely = classes[class_counts < 2].tolist()
        named = len(class_names) > max(lonely)  # ids of named classes: their names
        shown = ", ".join(repr(class_names[int(k)][:40]) if named else str(k) for k in lonely[:5])
        more = f" and {len(lonely) - 5} more" if len(lonely) > 5 else ""
        raise ValueError(
            f"{len(lonely)} class{'es' * (len(lonely) > 1)} ({shown}{more}) "
            f"{'have' if len(lonely) > 1 else 'has'} a single sample; a stratified split "
            "needs at least 2 of each class"
        )
    for name, size in (("training part", n_train), ("test part", n_test)):
        if size < len(classes):
            raise ValueError(
                f"the {name} would hold {size} samples for {len(classes)} classes; a "
                "stratified split needs one of each class there"
            )
    # Each class's members in order: a pass per class when they are few, else a stable
    # sort of 16-bit keys (a radix sort): the same order, a fraction of the time.
    if len(classes) <= 8:
        per_class = [np.flatnonzero(y_indices == k) for k in range(len(classes))]
    else:
        keys = y_indices.astype("int16") if len(classes) < 2**15 else y_indices
        per_class = np.split(np.argsort(keys, kind="stable"), np.cumsum(class_counts)[:-1])
    rng = np.random.RandomState(seed)
    train_counts = _approximate_mode(class_counts, n_train, rng)
    test_counts = _approximate_mode(class_counts - train_counts, n_test, rng)
    train, test = [], []
    for members, in_train, in_test in zip(per_class, train_counts, test_counts, strict=True):
        # permuting the members draws what members[rng.permutation(count)] draws,
        # without the gather: shuffling applies the same swaps to any array
        drawn = rng.permutation(positions.take(members))
        train.append(drawn[:in_train])
        test.append(drawn[in_train : in_train + in_test])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def split_positions(y, settings, classification, class_names=()):
    """Positions of the train, validation (None when its size is 0) and test samples.

    Splits positions rather than arrays, exactly as train_test_split would split
    the arrays (test first, then validation from the rest), so nothing is copied.
    `class_names` (by class id) name the classes in messages.
    """
    seed, stratify = settings["seed"], settings["stratify"] and classification
    positions = np.arange(len(y))
    try:
        y_rest = y if stratify else None
        rest, test = _train_test(positions, settings["test_size"], seed, y_rest, class_names)
        if settings["validation_size"] <= 0:
            return rest, None, test
        y_rest = y.take(rest, axis=0) if stratify else None
        train, validation = _train_test(
            rest, settings["validation_size"], seed, y_rest, class_names
        )
    except ValueError as error:
        hint = " or set stratify to false" if stratify else ""
        raise DataError(
            f"Cannot split {len(y)} samples with test_size={settings['test_size']} and "
            f"validation_size={settings['validation_size']}: {error}. "
            f"Use more samples, smaller split sizes{hint}."
        ) from None
    return train, validation, test


def _blocks(a):
    """Row blocks of `a` viewed flat (one feature per column), for in-place work."""
    flat = a.reshape(len(a), -1)
    for start in range(0, len(flat), CHUNK_ROWS):
        yield flat[start : start + CHUNK_ROWS]


def _fill_value(strategy, values):
    """The training values' mean, median or most frequent value (0 without any)."""
    if not len(values):
        return 0.0
    if strategy == "mean":
        return values.sum(dtype="float64") / len(values)
    return np.median(values) if strategy == "median" else _most_frequent(values)


def _most_frequent(values):
    """The most frequent value; the smallest among ties (as scikit-learn's imputer)."""
    distinct, counts = np.unique(values, return_counts=True)
    return distinct[np.argmax(counts)]


def impute(strategy, train, *others):
    """Fills NaN features in place with the training split's mean, median or most frequent value.

    A feature without any value in the training split is filled with 0.

    Args:
        strategy: "mean", "median" or "most_frequent".
        train: The training features (statistics come from here only).
        *others: Validation/test features (or None), filled with the same values.
    """
    flat = train.reshape(len(train), -1)
    missing = np.zeros(flat.shape[1], dtype=bool)
    for array in (train, *others):
        for block in _blocks(array) if array is not None else ():
            missing |= np.isnan(block).any(axis=0)
    if not missing.any():
        return
    fill = np.zeros(flat.shape[1], dtype="float64")
    if strategy == "mean":
        sums, counts = np.zeros_like(fill), np.zeros_like(fill)
        for block in _blocks(train):
            present = ~np.isnan(block)
            sums += np.where(present, block, 0).sum(axis=0, dtype="float64")
            counts += present.sum(axis=0)
        fill = np.divide(sums, counts, out=fill, where=counts > 0)
    else:
        for column in np.flatnonzero(missing):
            values = flat[:, column]
            fill[column] = _fill_value(strategy, values[~np.isnan(values)])
    fill = fill.astype("float32")
    for array in (train, *others):
        if array is not None:
            for block in _blocks(array):
                np.copyto(block, np.broadcast_to(fill, block.shape), where=np.isnan(block))


def normalize(method, train, *others):
    """Scales features in place, per flattened feature, with statistics of `train` only.

    Args:
        method: "standard" (StandardScaler), "minmax" (MinMaxScaler to [0, 1]) or "none".
        train: The training features.
        *others: Validation/test features (or None), scaled alike.
    """
    if method == "none":
        return
    scaler = {"standard": StandardScaler, "minmax": MinMaxScaler}[method](copy=False)
    try:
        for block in _blocks(train):
            scaler.partial_fit(block)
        for array in (train, *others):
            if array is not None:
                for block in _blocks(array):
                    scaled = scaler.transform(block)  # in place when block is contiguous
                    if scaled is not block:
                        block[...] = scaled
    except ValueError as error:
        raise DataError(f"Cannot apply normalization={method!r}: {error}") from None


def _refuse_untrained_classes(name, raw, y_train, others, unreadable=((), ())):
    """Refuses a class without a training sample: no model can learn it, and its label
    would be past the output's units.

    Args:
        others: The validation and test targets (None: no such split).
        unreadable: (positions in raw, "file (reason)") of the images the scan left out.
    """
    classes = raw.class_names
    others = [y for y in others if y is not None and len(y)]
    size = max([len(classes), *(int(y.max()) + 1 for y in (y_train, *others) if len(y))])
    for label in np.flatnonzero(np.bincount(y_train, minlength=size) == 0):
        shown = repr(classes[label]) if label < len(classes) else str(label)
        elsewhere = sum(int(np.count_nonzero(y == label)) for y in others)
        if elsewhere:  # e.g. a rare class, split without stratifying
            raise DataError(
                f"{name}: class {shown} has no sample in the training split (its "
                f"{elsewhere} fell in another split); set stratify to true, so that every "
                "class keeps its share of each split, or add samples of it"
            )
        left_out = [why for at, why in zip(*unreadable, strict=True) if raw.y[at] == label]
        if left_out:
            raise DataError(
                f"{name}: class {shown}: none of its images can be read, e.g. {left_out[0]}; "
                "replace them or remove the class folder"
            )


def prepare(settings, raw, name, last_use=False):
    """Splits, imputes and scales `raw` as `settings` ask (steps 2-5 of the contract).

    Args:
        settings: Complete dataset settings.
        raw: The loaded data.
        name: The dataset's name, for messages.
        last_use: Nothing reads `raw.x` afterwards: a table lets go of its number columns
            while its parts are written, which lowers the peak memory.
    """
    rows = np.arange(len(raw.x)) if raw.rows is None else raw.rows
    if len(rows) == 0:
        raise DataError(f"{name}: contains no samples")
    streamed = isinstance(raw.x, ImageFiles)
    if settings["drop_duplicates"] and not streamed:
        rows = rows[unique_rows(raw.x[rows], raw.y[rows])]
    classification = raw.task == "classification"

    def split():
        try:
            y = np.take(raw.y, rows, axis=0)
            return split_positions(y, settings, classification, raw.class_names)
        except DataError as error:
            raise DataError(f"{name}: {error}") from None

    layout = None
    if isinstance(raw.x, TableFeatures):  # its layout does not depend on the split: both at once
        parts, layout = _alongside(split, raw.x.laid_out)
    else:
        parts = split()
    bad, skipped, scaling = (), (), None
    if streamed:
        bad, skipped, scaling = scan_images(raw.x, rows[parts[0]], settings["normalization"])
        parts = [None if p is None else p[~np.isin(rows[p], bad)] for p in parts]
        if len(parts[0]) == 0:
            example = f", e.g. {skipped[0]}" if skipped else ""
            raise DataError(f"{name}: no readable images in the training split{example}")
    # each part's source rows, once: they pick its features and targets, and are kept
    positions = [None if p is None else rows.take(p).astype("int64", copy=False) for p in parts]
    if isinstance(raw.x, TableFeatures):
        x_train, x_val, x_test = raw.x.prepared(
            positions, settings["missing"], settings["normalization"], layout, last_use
        )
        del layout  # its rows, as large as the features, are no longer needed
    else:
        x_train, x_val, x_test = (None if p is None else raw.x.take(p, axis=0) for p in positions)
    y_train, y_val, y_test = (None if p is None else np.take(raw.y, p, axis=0) for p in positions)
    if streamed and scaling is not None:
        x_train, x_val, x_test = (
            None if x is None else x.scaled(scaling) for x in (x_train, x_val, x_test)
        )
    elif x_train.dtype.kind == "f" and not isinstance(raw.x, TableFeatures):
        # text is never imputed nor scaled; tables were as their parts were written
        if settings["missing"] != "drop":
            impute(settings["missing"], x_train, x_val, x_test)
        normalize(settings["normalization"], x_train, x_val, x_test)
    task, classes, num_classes = raw.task, raw.class_names, 0
    if settings["target"] == "inputs":
        y_train, y_val, y_test = x_train, x_val, x_test
        task, classes = "regression", ()
    elif classification:
        _refuse_untrained_classes(name, raw, y_train, (y_val, y_test), (bad, skipped))
        num_classes = _distinct_count(y_train)
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        task=task,
        class_names=classes,
        feature_names=raw.feature_names,
        num_classes=num_classes,
        input_shape=tuple(int(d) for d in x_train.shape[1:]),
        images=raw.images,
        target=settings["target"],
        target_name=raw.target_name,
        skipped=skipped,
        split_rows={
            part: np.empty(0, "int64") if p is None else p
            for part, p in zip(("train", "validation", "test"), positions, strict=True)
        },
    )


def load_dataset(settings, path=None):
    """Loads, cleans, splits and scales the dataset of complete `settings`.

    Args:
        settings: Complete dataset settings (every key of the dataset section).
        path: The resolved file or folder for file sources; None for built-ins.
    """
    path = None if path is None else Path(path)
    raw = load_raw(settings, path)
    return prepare(settings, raw, settings["name"] if path is None else path.name, last_use=True)


def one_hot(y, num_classes):
    """Class ids -> one-hot float32 rows (for categorical_crossentropy)."""
    return np.eye(num_classes, dtype="float32")[y.astype("int64")]


def shape_fits(sample, declared):
    """Whether samples of shape `sample` feed an Input of shape `declared` as they are.

    An open size (None) in `declared` takes whatever the data holds.
    """
    return len(sample) == len(declared) and all(
        want is None or want == got for got, want in zip(sample, declared, strict=True)
    )


def input_sizes(shapes):
    """Values per sample of each Input shape; an open size (None) cannot be cut for."""
    for shape in shapes:
        if None in shape:
            raise DataError(
                f"An Input of shape {tuple(shape)} leaves sizes open (None), so the data "
                "cannot be cut or reshaped for it: give it samples of its rank "
                f"({len(shape)} dimensions) whose other sizes match, and use one Input"
            )
    return [math.prod(shape) for shape in shapes]


def takes_text(tensor):
    """Whether a model input (a Keras tensor) takes strings: raw text for a TextVectorization."""
    return "string" in str(tensor.dtype)


def model_inputs(x, shapes):
    """Feeds `x` to Input nodes of `shapes`, without the batch dimension, in graph order.

    Returns:
        One array for one Input, else a list with one array per Input. Text
        comes as a string tensor, which is how Keras takes strings.
    """
    if x.dtype.kind == "U":
        import tensorflow as tf

        return tf.constant(x.reshape(len(x), *shapes[0]) if len(shapes) == 1 else x)
    if len(shapes) == 1 and shape_fits(tuple(x.shape[1:]), tuple(shapes[0])):
        return x
    sizes = input_sizes(shapes)
    if isinstance(x, ImageFiles):
        if len(shapes) == 1 and sizes[0] == math.prod(x.shape[1:]):
            return x.reshaped(shapes[0])  # still streamed, each image read in that shape
        x = np.asarray(x)  # cut for several Inputs: in memory
    flat = x.reshape(len(x), -1)
    if flat.shape[1] != sum(sizes):
        raise DataError(
            f"Samples of shape {tuple(x.shape[1:])} hold {flat.shape[1]} values but the "
            f"Input nodes take {sum(sizes)} ({' + '.join(map(str, sizes))})"
        )
    parts, start = [], 0
    for shape, size in zip(shapes, sizes, strict=True):
        parts.append(flat[:, start : start + size].reshape(len(x), *shape))
        start += size
    return parts[0] if len(parts) == 1 else parts
