"""YAML read and written with libyaml (PyYAML's C loader and dumper), within bounds.

The pure-Python loader took 60 s and 1 GB for a 19 MB file. The C loader is fast, but depth and
aliases still need bounds: older libyaml builds recurse without limit in the composer (100,000
nested brackets, a 200 KB file, crashed the process with Debian's PyYAML 6.0.3; the pinned 6.0.4
refuses more than 1,000 levels), nesting far below that still exhausts the recursion of
validation and serialisation, and aliases share nodes that every later use expands (a 400-byte
"billion laughs" file became 5 MB of JSON per request). So the event stream is checked first,
in one flat pass that never builds a node: nesting depth, and the size the document has once
every alias is expanded. Only a document within bounds is constructed.
"""

from __future__ import annotations

from typing import Any

import yaml

# The same depth as request bodies (service/http/json_body.py): deeper than any real
# configuration, far from the recursion limits of validation and serialisation.
MAX_DEPTH = 64
# Scalars and collections once aliases are expanded: 50x a large real models.yaml (about
# 300 models with a few settings each).
MAX_NODES = 100_000

_OPENERS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSERS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class YamlTooBig(yaml.YAMLError):
    """Within the byte limit, but too deep or too large once expanded."""


def check(text: bytes) -> None:
    """Depth and expanded size, from the events alone (no recursion, nothing expanded)."""
    anchors: dict[str, int] = {}  # anchor -> expanded size of the node it names
    # One frame per open collection: [its anchor, the expanded size of its children so far].
    open_frames: list[list[Any]] = [[None, 0]]
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, _OPENERS):
            if len(open_frames) > MAX_DEPTH:
                raise YamlTooBig(f"nested deeper than {MAX_DEPTH} levels")
            open_frames.append([event.anchor, 1])
            continue
        if isinstance(event, _CLOSERS):
            anchor, size = open_frames.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            # An anchor still open (a collection containing itself) is not in `anchors` yet.
            if event.anchor not in anchors:
                raise YamlTooBig(f"the alias *{event.anchor} refers to a node that contains it")
            anchor, size = None, anchors[event.anchor]
        else:  # stream and document starts and ends
            continue
        if anchor is not None:
            anchors[anchor] = size
        open_frames[-1][1] += size
        if open_frames[-1][1] > MAX_NODES:  # every enclosing count is at least this one
            raise YamlTooBig(f"larger than {MAX_NODES:,} values once its aliases are expanded")


def load(text: bytes) -> Any:
    """Parse one YAML document; YAMLError (YamlTooBig for the bounds) when it cannot be."""
    check(text)
    return yaml.load(text, Loader=yaml.CSafeLoader)


def dump(data: Any) -> bytes:
    return yaml.dump(
        data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, encoding="utf-8"
    )
