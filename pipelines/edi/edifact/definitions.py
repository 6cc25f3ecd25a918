"""Our EDIFACT message definitions, as Python data, and the validator that holds a message to one.

The format mirrors the UN/EDIFACT directories, narrowed the way an implementation guide (EANCOM, Amazon's)
narrows them:

- a segment directory entry (`SegmentSpec`) lists data elements: `Data` (simple, e.g. ``Data("1004",
  "Document number", "an..35")``) or `Composite` (components are `Data`), each mandatory (M) or not (C);
  formats are ISO 9735's ``a``/``n``/``an`` with an exact (``a3``) or maximum (``an..35``) length;
- a message (`MessageSpec`) is the UNH..UNT body as a sequence of `Use` (a segment: M/C and maximum repeats)
  and `Group` (a segment group: its first child is the trigger segment, M/C and maximum repeats);
- a `Use` may narrow its segment for this message: ``codes={"1.1": {"220"}}`` restricts element 1,
  component 1 to a code list; ``required={"2"}`` makes a conditional element mandatory. Paths are
  ``"element"`` or ``"element.component"``, counted from 1 after the tag.

`validate_message` raises `EdifactError` at the first problem, naming segment, element and component.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipelines.edi.edifact.syntax import EdifactError, Segment, ServiceChars

_FORMAT = re.compile(r"^(an|a|n)(\.\.)?(\d+)$")


@dataclass(frozen=True)
class Data:
    """A simple data element or a component: directory id, name, format (``an..35``), mandatory flag."""

    id: str
    name: str
    format: str
    mandatory: bool = False
    codes: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if not _FORMAT.match(self.format):
            raise ValueError(f"data element {self.id}: format {self.format!r} is not a/n/an with a length")


@dataclass(frozen=True)
class Composite:
    """A composite data element: its components in order."""

    id: str
    name: str
    components: tuple[Data, ...]
    mandatory: bool = False


Element = Data | Composite


@dataclass(frozen=True)
class SegmentSpec:
    """A segment directory entry."""

    tag: str
    name: str
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Use:
    """A segment's place in a message: status, repeats and this message's narrowing of its elements."""

    tag: str
    mandatory: bool
    max_repeat: int
    codes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    required: frozenset[str] = frozenset()

    @property
    def trigger(self) -> str:
        return self.tag


@dataclass(frozen=True)
class Group:
    """A segment group: its first child is its trigger segment (always mandatory within the group)."""

    name: str
    mandatory: bool
    max_repeat: int
    children: tuple[Use | Group, ...]

    @property
    def trigger(self) -> str:
        return self.children[0].trigger


@dataclass(frozen=True)
class MessageSpec:
    """A message type: UNH S009 identification and the body between UNH and UNT."""

    type: str
    version: str
    release: str
    agency: str
    body: tuple[Use | Group, ...]
    directory: Mapping[str, SegmentSpec]
    # Filled in by __post_init__: the body compiled for matching, and every tag the body uses.
    nodes: tuple[_Node, ...] = field(default=(), init=False, repr=False, compare=False)
    tags: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", _compile(self.type, self.body, self.directory))
        object.__setattr__(self, "tags", frozenset(use.tag for use in _uses(self.body)))

    @property
    def name(self) -> str:
        return f"{self.type}:{self.version}:{self.release}:{self.agency}"


def _uses(children: Iterable[Use | Group]) -> Iterable[Use]:
    for child in children:
        if isinstance(child, Use):
            yield child
        else:
            yield from _uses(child.children)


@dataclass(frozen=True, slots=True)
class _Node:
    """A `Use` or `Group` compiled for matching: its trigger segment's rules and, for a group, its other members."""

    trigger: str
    label: str  # "segment" or "segment group SG25", for errors
    mandatory: bool
    max_repeat: int
    rules: SegmentRules
    members: tuple[_Node, ...] | None  # None for a segment
    later: frozenset[str]  # triggers of the siblings after this one: a tag found there may follow this node


def _compile(message: str, children: Sequence[Use | Group], directory: Mapping[str, SegmentSpec]) -> tuple[_Node, ...]:
    triggers = [child.trigger for child in children]
    nodes = []
    for position, child in enumerate(children):
        later = frozenset(triggers[position + 1 :])
        first = child if isinstance(child, Use) else child.children[0]
        if not isinstance(first, Use):
            raise ValueError(f"{message}: group {child.name} must start with a segment")
        if first.tag not in directory:
            raise ValueError(f"{message}: segment {first.tag} is not in the segment directory")
        rules = SegmentRules(directory[first.tag], first)
        if isinstance(child, Use):
            nodes.append(_Node(child.tag, "segment", child.mandatory, child.max_repeat, rules, None, later))
        else:
            members = _compile(message, child.children[1:], directory)
            label = f"segment group {child.name}"
            nodes.append(_Node(first.tag, label, child.mandatory, child.max_repeat, rules, members, later))
    return tuple(nodes)


@dataclass(frozen=True, slots=True)
class _Rule:
    """One element or component as validated: where it is, whether required, its format and codes."""

    element: int
    component: int | None
    name: str
    mandatory: bool
    kind: str
    min_length: int
    max_length: int
    codes: frozenset[str] | None


class SegmentRules:
    """A segment directory entry compiled with one message's narrowing (codes, required elements).

    Service segments (UNB, UNH ...) stand outside any message: compile them with a `Use` of their own.
    """

    def __init__(self, spec: SegmentSpec, use: Use) -> None:
        self.tag = spec.tag
        self.elements: list[tuple[_Rule | None, list[_Rule]]] = []  # (simple rule, []) or (composite rule, parts)
        known = set()
        for index, element in enumerate(spec.elements, 1):
            known.add(str(index))
            required = str(index) in use.required
            if isinstance(element, Data):
                rule = _rule(element, index, None, element.mandatory or required, use.codes.get(str(index)))
                self.elements.append((rule, []))
                continue
            composite = _Rule(
                index, None, f"{element.id} {element.name}", element.mandatory or required, "", 0, 0, None
            )
            parts = []
            for position, component in enumerate(element.components, 1):
                path = f"{index}.{position}"
                mandatory = component.mandatory or path in use.required
                parts.append(_rule(component, index, position, mandatory, use.codes.get(path)))
                known.add(path)
            self.elements.append((composite, parts))
        unknown = (set(use.codes) | use.required) - known
        if unknown:
            raise ValueError(f"{use.tag}: paths {sorted(unknown)} name no element of the segment")


def _rule(data: Data, element: int, component: int | None, mandatory: bool, codes: frozenset[str] | None) -> _Rule:
    kind, ranged, length = _FORMAT.match(data.format).groups()
    narrowed = codes if codes is not None else data.codes
    return _Rule(
        element,
        component,
        f"{data.id} {data.name}",
        mandatory,
        kind,
        1 if ranged else int(length),
        int(length),
        narrowed,
    )


class Validator:
    """Holds segments to their definitions under one interchange's service characters (its decimal mark)."""

    def __init__(self, chars: ServiceChars) -> None:
        self.chars = chars
        mark = re.escape(chars.decimal)
        self._number = re.compile(rf"^-?(\d*{mark}?\d*)$")

    def validate(self, spec: MessageSpec, body: Sequence[Segment], trailer: Segment) -> None:
        """Check `body` (the segments between UNH and `trailer`, the UNT) against the message definition."""
        end = self._sequence(spec, spec.nodes, body, 0, trailer)
        if end < len(body):
            raise _unexpected(spec, body[end], None)

    def check_segment(self, segment: Segment, rules: SegmentRules) -> None:
        """Element by element: count, presence, format, code list. Raises at the first problem."""
        if segment.repeated:
            raise EdifactError(
                f"{segment.tag} repeats data element {segment.repeated}, which D.96A does not allow",
                segment,
                element=segment.repeated,
                code="16",
            )
        elements = segment.elements
        present = len(elements)
        if present > len(rules.elements):
            raise EdifactError(
                f"{segment.tag} has {present} data elements; it has only {len(rules.elements)}",
                segment,
                element=len(rules.elements) + 1,
                code="16",
            )
        for index, (rule, parts) in enumerate(rules.elements):
            values = elements[index] if index < present else ("",)
            if not parts:  # a simple data element
                if len(values) > 1:
                    raise EdifactError(
                        f"{rule.name} is a simple data element but has components",
                        segment,
                        element=index + 1,
                        component=2,
                        code="16",
                    )
                if values[0]:
                    self._check_value(values[0], rule, segment)
                elif rule.mandatory:
                    raise _missing(rule, segment)
                continue
            if not any(values):
                if rule.mandatory:
                    raise _missing(rule, segment)
                continue
            if len(values) > len(parts):
                raise EdifactError(
                    f"{rule.name} has {len(values)} components; it has only {len(parts)}",
                    segment,
                    element=index + 1,
                    component=len(parts) + 1,
                    code="16",
                )
            for position, part in enumerate(parts):
                value = values[position] if position < len(values) else ""
                if value:
                    self._check_value(value, part, segment)
                elif part.mandatory:
                    raise _missing(part, segment)

    def _check_value(self, value: str, rule: _Rule, segment: Segment) -> None:
        """A present value: format, length (ISO 9735 counts neither sign nor decimal mark), code list."""

        def error(reason: str, code: str) -> EdifactError:
            return EdifactError(reason, segment, element=rule.element, component=rule.component, code=code)

        kind = rule.kind
        length = len(value)
        if kind == "n":
            if not self._number.match(value) or not any(c.isdigit() for c in value):
                wrong_mark = "," if self.chars.decimal == "." else "."
                if wrong_mark in value:
                    raise error(f"{rule.name} {value!r} does not use the declared decimal mark", "19")
                raise error(f"{rule.name} {value!r} is not numeric", "37")
            length = sum(c.isdigit() for c in value)
        elif kind == "a" and any(c.isdigit() for c in value):
            raise error(f"{rule.name} {value!r} must not contain digits", "37")
        if length > rule.max_length:
            raise error(f"{rule.name} {value!r} is longer than {rule.max_length}", "39")
        if length < rule.min_length:
            raise error(f"{rule.name} {value!r} is shorter than {rule.min_length}", "40")
        if rule.codes is not None and value not in rule.codes:
            allowed = ", ".join(sorted(rule.codes))
            raise error(f"{rule.name} {value!r} is not one of the codes we accept here ({allowed})", "12")

    def _sequence(
        self, spec: MessageSpec, nodes: tuple[_Node, ...], body: Sequence[Segment], i: int, trailer: Segment
    ) -> int:
        """Match `nodes` in order from body[i]; returns the index after the last segment they took."""
        end = len(body)
        for node in nodes:
            trigger = node.trigger
            count = 0
            while i < end and body[i].tag == trigger:
                if count == node.max_repeat:
                    if trigger in node.later:
                        break  # the same tag has a later place at this level
                    raise EdifactError(
                        f"{node.label} {trigger} repeats more than {node.max_repeat} times",
                        body[i],
                        code="35" if node.members is None else "36",
                    )
                self.check_segment(body[i], node.rules)
                i = i + 1 if node.members is None else self._sequence(spec, node.members, body, i + 1, trailer)
                count += 1
            if count == 0 and node.mandatory:
                found = body[i] if i < end else trailer
                raise _unexpected(spec, found, trigger, missing=found is trailer or found.tag in node.later)
        return i


def _missing(rule: _Rule, segment: Segment) -> EdifactError:
    return EdifactError(
        f"mandatory {rule.name} is missing", segment, element=rule.element, component=rule.component, code="13"
    )


def _unexpected(spec: MessageSpec, segment: Segment, expected: str | None, *, missing: bool = False) -> EdifactError:
    """The error for a segment found where it does not belong, or found where mandatory `expected` should be.

    `missing`: what was found may follow `expected` here, so `expected` is what is wrong, not the segment.
    """
    if missing:
        return EdifactError(f"mandatory segment {expected} is missing (found {segment.tag})", segment, code="13")
    if segment.tag not in spec.tags:
        reason = f"segment {segment.tag!r} is not in our {spec.name} definition"
    else:
        reason = f"segment {segment.tag} is out of place" + (f" (expected {expected})" if expected else "")
    return EdifactError(reason, segment, code="15")


def codes(*values: str) -> frozenset[str]:
    """A code list, written as the codes themselves."""
    return frozenset(values)
