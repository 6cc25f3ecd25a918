"""Service segments (ISO 9735 syntax versions 2–4) and the CONTRL syntax and service report message.

UNB changed in syntax version 4 (8-digit date, longer routing addresses, more S001 components), so it has two
entries; UNH, UNT, UNG, UNE and UNZ read the same in every version we accept.
"""

from __future__ import annotations

from pipelines.edi.edifact.definitions import Composite, Data, Group, MessageSpec, SegmentSpec, Use, codes

M = True
C = False


def _s002(routing: str, *extras: Data) -> Composite:
    return Composite(
        "S002",
        "Interchange sender",
        (
            Data("0004", "Sender identification", "an..35", M),
            Data("0007", "Partner identification code qualifier", "an..4"),
            Data("0008", "Address for reverse routing", routing),
            *extras,
        ),
        M,
    )


def _s003(routing: str, *extras: Data) -> Composite:
    return Composite(
        "S003",
        "Interchange recipient",
        (
            Data("0010", "Recipient identification", "an..35", M),
            Data("0007", "Partner identification code qualifier", "an..4"),
            Data("0014", "Routing address", routing),
            *extras,
        ),
        M,
    )


def _unb(date_format: str, v4: bool) -> SegmentSpec:
    routing = "an..35" if v4 else "an..14"
    syntax_extras = (
        (
            Data("0080", "Service code list directory version number", "an..6"),
            Data("0133", "Character encoding", "an..3"),
        )
        if v4
        else ()
    )
    sender_extras = (Data("0042", "Interchange sender internal identification", "an..35"),) if v4 else ()
    recipient_extras = (Data("0046", "Interchange recipient internal identification", "an..35"),) if v4 else ()
    return SegmentSpec(
        "UNB",
        "Interchange header",
        (
            Composite(
                "S001",
                "Syntax identifier",
                (
                    Data("0001", "Syntax identifier", "a4", M),
                    Data("0002", "Syntax version number", "n1", M),
                    *syntax_extras,
                ),
                M,
            ),
            _s002(routing, *sender_extras),
            _s003(routing, *recipient_extras),
            Composite(
                "S004",
                "Date/time of preparation",
                (Data("0017", "Date", date_format, M), Data("0019", "Time", "n4", M)),
                M,
            ),
            Data("0020", "Interchange control reference", "an..14", M),
            Composite(
                "S005",
                "Recipient's reference/password",
                (Data("0022", "Recipient's reference/password", "an..14", M), Data("0025", "Qualifier", "an2")),
            ),
            Data("0026", "Application reference", "an..14"),
            Data("0029", "Processing priority code", "a1"),
            Data("0031", "Acknowledgement request", "n1", codes=codes("1")),
            Data("0032", "Communications agreement identification", "an..35"),
            Data("0035", "Test indicator", "n1", codes=codes("1")),
        ),
    )


UNB = _unb("n6", v4=False)
UNB_V4 = _unb("n8", v4=True)

S009 = Composite(
    "S009",
    "Message identifier",
    (
        Data("0065", "Message type", "an..6", M),
        Data("0052", "Message version number", "an..3", M),
        Data("0054", "Message release number", "an..3", M),
        Data("0051", "Controlling agency", "an..2", M),
        Data("0057", "Association assigned code", "an..6"),
    ),
    M,
)

UNH = SegmentSpec(
    "UNH",
    "Message header",
    (
        Data("0062", "Message reference number", "an..14", M),
        S009,
        Data("0068", "Common access reference", "an..35"),
        Composite(
            "S010",
            "Status of the transfer",
            (Data("0070", "Sequence of transfers", "n..2", M), Data("0073", "First and last transfer", "a1")),
        ),
    ),
)
UNT = SegmentSpec(
    "UNT",
    "Message trailer",
    (
        Data("0074", "Number of segments in the message", "n..6", M),
        Data("0062", "Message reference number", "an..14", M),
    ),
)
UNG = SegmentSpec(
    "UNG",
    "Functional group header",
    (
        Data("0038", "Functional group identification", "an..6", M),
        Composite(
            "S006",
            "Application sender identification",
            (Data("0040", "Application sender identification", "an..35", M), Data("0007", "Qualifier", "an..4")),
            M,
        ),
        Composite(
            "S007",
            "Application recipient identification",
            (Data("0044", "Application recipient identification", "an..35", M), Data("0007", "Qualifier", "an..4")),
            M,
        ),
        Composite(
            "S004",
            "Date/time of preparation",
            (Data("0017", "Date", "n..8", M), Data("0019", "Time", "n4", M)),
            M,
        ),
        Data("0048", "Functional group reference number", "an..14", M),
        Data("0051", "Controlling agency", "an..2", M),
        Composite(
            "S008",
            "Message version",
            (
                Data("0052", "Message version number", "an..3", M),
                Data("0054", "Message release number", "an..3", M),
                Data("0057", "Association assigned code", "an..6"),
            ),
            M,
        ),
        Data("0058", "Application password", "an..14"),
    ),
)
UNE = SegmentSpec(
    "UNE",
    "Functional group trailer",
    (
        Data("0060", "Number of messages", "n..6", M),
        Data("0048", "Functional group reference number", "an..14", M),
    ),
)
UNZ = SegmentSpec(
    "UNZ",
    "Interchange trailer",
    (
        Data("0036", "Interchange control count", "n..6", M),
        Data("0020", "Interchange control reference", "an..14", M),
    ),
)

# --- CONTRL -------------------------------------------------------------------------------------------------

S011 = Composite(
    "S011",
    "Data element identification",
    (
        Data("0098", "Erroneous data element position in segment", "n..3", M),
        Data("0104", "Erroneous component data element position", "n..3"),
    ),
)
# ISO 9735 code list 0085 (syntax error, coded): the codes a CONTRL may carry.
SYNTAX_ERRORS = codes(
    "2",
    "7",
    "12",
    "13",
    "14",
    "15",
    "16",
    "17",
    "18",
    "19",
    "20",
    "21",
    "22",
    "23",
    "24",
    "25",
    "26",
    "27",
    "28",
    "29",
    "30",
    "31",
    "32",
    "33",
    "35",
    "36",
    "37",
    "39",
    "40",
)
ERROR_CODE = Data("0085", "Syntax error, coded", "an..3", codes=SYNTAX_ERRORS)

UCI = SegmentSpec(
    "UCI",
    "Interchange response",
    (
        Data("0020", "Interchange control reference", "an..14", M),
        _s002("an..14"),
        _s003("an..14"),
        # 4 rejected, 6 UNB/UNZ rejected (messages reported one by one), 7 acknowledged, 8 received.
        Data("0083", "Action, coded", "an..3", M, codes("4", "6", "7", "8")),
        ERROR_CODE,
        Data("0013", "Service segment tag, coded", "a3"),
        S011,
    ),
)
UCM = SegmentSpec(
    "UCM",
    "Message response",
    (
        Data("0062", "Message reference number", "an..14", M),
        S009,
        Data("0083", "Action, coded", "an..3", M, codes("4", "7")),
        ERROR_CODE,
        Data("0013", "Service segment tag, coded", "a3"),
        S011,
    ),
)
UCS = SegmentSpec(
    "UCS",
    "Segment error indication",
    (Data("0096", "Segment position in message body", "n..6", M), ERROR_CODE),
)
UCD = SegmentSpec(
    "UCD",
    "Data element error indication",
    (Data("0085", "Syntax error, coded", "an..3", M, SYNTAX_ERRORS), Composite(S011.id, S011.name, S011.components, M)),
)
UCF = SegmentSpec(
    "UCF",
    "Functional group response",
    (
        Data("0048", "Functional group reference number", "an..14", M),
        Composite(
            "S006",
            "Application sender identification",
            (Data("0040", "Application sender identification", "an..35", M), Data("0007", "Qualifier", "an..4")),
            M,
        ),
        Composite(
            "S007",
            "Application recipient identification",
            (Data("0044", "Application recipient identification", "an..35", M), Data("0007", "Qualifier", "an..4")),
            M,
        ),
        Data("0083", "Action, coded", "an..3", M, codes("4", "6", "7", "8")),
        ERROR_CODE,
        Data("0013", "Service segment tag, coded", "a3"),
        S011,
    ),
)

CONTRL_DIRECTORY = {spec.tag: spec for spec in (UCI, UCM, UCS, UCD, UCF)}


def _contrl_body() -> tuple[Use | Group, ...]:
    message_response = Group(
        "SG1",
        C,
        999_999,
        (Use("UCM", M, 1), Group("SG2", C, 999, (Use("UCS", M, 1), Use("UCD", C, 99)))),
    )
    group_response = Group(
        "SG3",
        C,
        999_999,
        (
            Use("UCF", M, 1),
            Group(
                "SG4",
                C,
                999_999,
                (Use("UCM", M, 1), Group("SG5", C, 999, (Use("UCS", M, 1), Use("UCD", C, 99)))),
            ),
        ),
    )
    return (Use("UCI", M, 1), message_response, group_response)


# The same message under the identifications syntax versions 2 (EANCOM 1997: CONTRL:2:2:UN) and 3 use.
CONTRL_V2 = MessageSpec("CONTRL", "2", "2", "UN", _contrl_body(), CONTRL_DIRECTORY)
CONTRL_D3 = MessageSpec("CONTRL", "D", "3", "UN", _contrl_body(), CONTRL_DIRECTORY)
