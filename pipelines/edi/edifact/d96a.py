"""Our UN/EDIFACT D.96A definitions: the segments we read and ORDERS, REMADV and APERAK as Amazon uses them.

Structures follow the D.96A message tables as EANCOM 1997 (built on D.96A) subsets them; where Amazon's use is
known (ORDERS, from its UK specification example) the codes it sends are the only ones accepted, so anything
else stops in quarantine for a person to look at instead of being guessed at. REMADV and APERAK are
unconfirmed for Amazon: their definitions follow the standard and EANCOM with few code restrictions.

A segment Amazon adds that is not here quarantines the message with "segment 'XXX' is not in our ... definition":
add it to `DIRECTORY` and to the message's structure, and the message reads.
"""

from __future__ import annotations

from pipelines.edi.edifact.definitions import Composite, Data, Group, MessageSpec, SegmentSpec, Use, codes

M = True
C = False


def _composite(id_: str, name: str, mandatory: bool, *components: Data) -> Composite:
    return Composite(id_, name, components, mandatory)


def _repeat(data: Data, times: int) -> tuple[Data, ...]:
    """A component that repeats inside its composite (street lines, free text lines): first as defined, rest C."""
    return (data, *(Data(data.id, data.name, data.format) for _ in range(times - 1)))


def _code_source() -> tuple[Data, Data]:
    return Data("1131", "Code list qualifier", "an..3"), Data("3055", "Code list responsible agency, coded", "an..3")


C212 = _composite(
    "C212",
    "Item number identification",
    C,
    Data("7140", "Item number", "an..35"),
    Data("7143", "Item number type, coded", "an..3"),
    *_code_source(),
)
C002 = _composite(
    "C002",
    "Document/message name",
    C,
    Data("1001", "Document/message name, coded", "an..3"),
    *_code_source(),
    Data("1000", "Document/message name", "an..35"),
)
C506 = _composite(
    "C506",
    "Reference",
    M,
    Data("1153", "Reference qualifier", "an..3", M),
    Data("1154", "Reference number", "an..35"),
    Data("1156", "Line number", "an..6"),
    Data("4000", "Reference version number", "an..35"),
)
C516 = _composite(
    "C516",
    "Monetary amount",
    M,
    Data("5025", "Monetary amount type qualifier", "an..3", M),
    Data("5004", "Monetary amount", "n..18"),
    Data("6345", "Currency, coded", "an..3"),
    Data("6343", "Currency qualifier", "an..3"),
    Data("4405", "Status, coded", "an..3"),
)
C504 = _composite(
    "C504",
    "Currency details",
    C,
    Data("6347", "Currency details qualifier", "an..3", M),
    Data("6345", "Currency, coded", "an..3"),
    Data("6343", "Currency qualifier", "an..3"),
    Data("6348", "Currency rate base", "n..4"),
)
C108 = _composite("C108", "Text literal", C, *_repeat(Data("4440", "Free text", "an..70", M), 5))

_SEGMENTS = (
    SegmentSpec(
        "BGM",
        "Beginning of message",
        (
            C002,
            Data("1004", "Document/message number", "an..35"),
            Data("1225", "Message function, coded", "an..3"),
            Data("4343", "Response type, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "DTM",
        "Date/time/period",
        (
            _composite(
                "C507",
                "Date/time/period",
                M,
                Data("2005", "Date/time/period qualifier", "an..3", M),
                Data("2380", "Date/time/period", "an..35"),
                Data("2379", "Date/time/period format qualifier", "an..3"),
            ),
        ),
    ),
    SegmentSpec(
        "PAI",
        "Payment instructions",
        (
            _composite(
                "C534",
                "Payment instruction details",
                M,
                Data("4439", "Payment conditions, coded", "an..3"),
                Data("4431", "Payment guarantee, coded", "an..3"),
                Data("4461", "Payment means, coded", "an..3"),
                *_code_source(),
                Data("4435", "Payment channel, coded", "an..3"),
            ),
        ),
    ),
    SegmentSpec(
        "ALI",
        "Additional information",
        (
            Data("3239", "Country of origin, coded", "an..3"),
            Data("9213", "Type of duty regime, coded", "an..3"),
            *_repeat(Data("4183", "Special conditions, coded", "an..3"), 5),
        ),
    ),
    SegmentSpec(
        "IMD",
        "Item description",
        (
            Data("7077", "Item description type, coded", "an..3"),
            Data("7081", "Item characteristic, coded", "an..3"),
            _composite(
                "C273",
                "Item description",
                C,
                Data("7009", "Item description identification", "an..17"),
                *_code_source(),
                *_repeat(Data("7008", "Item description", "an..35"), 2),
                Data("3453", "Language, coded", "an..3"),
            ),
            Data("7383", "Surface/layer indicator, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "FTX",
        "Free text",
        (
            Data("4451", "Text subject qualifier", "an..3", M),
            Data("4453", "Text function, coded", "an..3"),
            _composite("C107", "Text reference", C, Data("4441", "Free text, coded", "an..3", M), *_code_source()),
            C108,
            Data("3453", "Language, coded", "an..3"),
        ),
    ),
    SegmentSpec("RFF", "Reference", (C506,)),
    SegmentSpec(
        "NAD",
        "Name and address",
        (
            Data("3035", "Party qualifier", "an..3", M),
            _composite(
                "C082",
                "Party identification details",
                C,
                Data("3039", "Party id. identification", "an..35", M),
                *_code_source(),
            ),
            _composite("C058", "Name and address", C, *_repeat(Data("3124", "Name and address line", "an..35", M), 5)),
            _composite(
                "C080",
                "Party name",
                C,
                *_repeat(Data("3036", "Party name", "an..35", M), 5),
                Data("3045", "Party name format, coded", "an..3"),
            ),
            _composite("C059", "Street", C, *_repeat(Data("3042", "Street and number/p.o. box", "an..35", M), 4)),
            Data("3164", "City name", "an..35"),
            Data("3229", "Country sub-entity identification", "an..9"),
            Data("3251", "Postcode identification", "an..9"),
            Data("3207", "Country, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "LOC",
        "Place/location identification",
        (
            Data("3227", "Place/location qualifier", "an..3", M),
            _composite(
                "C517",
                "Location identification",
                C,
                Data("3225", "Place/location identification", "an..25"),
                *_code_source(),
                Data("3224", "Place/location", "an..70"),
            ),
            _composite(
                "C519",
                "Related location one identification",
                C,
                Data("3223", "Related place/location one identification", "an..25"),
                *_code_source(),
                Data("3222", "Related place/location one", "an..70"),
            ),
            _composite(
                "C553",
                "Related location two identification",
                C,
                Data("3233", "Related place/location two identification", "an..25"),
                *_code_source(),
                Data("3232", "Related place/location two", "an..70"),
            ),
            Data("5479", "Relation, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "FII",
        "Financial institution information",
        (
            Data("3035", "Party qualifier", "an..3", M),
            _composite(
                "C078",
                "Account identification",
                C,
                Data("3194", "Account holder number", "an..35"),
                *_repeat(Data("3192", "Account holder name", "an..35"), 2),
                Data("6345", "Currency, coded", "an..3"),
            ),
            _composite(
                "C088",
                "Institution identification",
                C,
                Data("3433", "Institution name identification", "an..11"),
                *_code_source(),
                Data("3434", "Institution branch number", "an..17"),
                *_code_source(),
                Data("3432", "Institution name", "an..70"),
                Data("3436", "Institution branch place", "an..70"),
            ),
            Data("3207", "Country, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "CTA",
        "Contact information",
        (
            Data("3139", "Contact function, coded", "an..3"),
            _composite(
                "C056",
                "Department or employee details",
                C,
                Data("3413", "Department or employee identification", "an..17"),
                Data("3412", "Department or employee", "an..35"),
            ),
        ),
    ),
    SegmentSpec(
        "COM",
        "Communication contact",
        (
            _composite(
                "C076",
                "Communication contact",
                M,
                Data("3148", "Communication number", "an..512", M),
                Data("3155", "Communication channel qualifier", "an..3", M),
            ),
        ),
    ),
    SegmentSpec(
        "TAX",
        "Duty/tax/fee details",
        (
            Data("5283", "Duty/tax/fee function qualifier", "an..3", M),
            _composite(
                "C241",
                "Duty/tax/fee type",
                C,
                Data("5153", "Duty/tax/fee type, coded", "an..3"),
                *_code_source(),
                Data("5152", "Duty/tax/fee type", "an..35"),
            ),
            _composite(
                "C533",
                "Duty/tax/fee account detail",
                C,
                Data("5289", "Duty/tax/fee account identification", "an..6", M),
                *_code_source(),
            ),
            Data("5286", "Duty/tax/fee assessment basis", "an..15"),
            _composite(
                "C243",
                "Duty/tax/fee detail",
                C,
                Data("5279", "Duty/tax/fee rate identification", "an..7"),
                *_code_source(),
                Data("5278", "Duty/tax/fee rate", "an..17"),
                Data("5273", "Duty/tax/fee rate basis identification", "an..12"),
                *_code_source(),
            ),
            Data("5305", "Duty/tax/fee category, coded", "an..3"),
            Data("3446", "Party tax identification number", "an..20"),
        ),
    ),
    SegmentSpec("MOA", "Monetary amount", (C516,)),
    SegmentSpec(
        "CUX",
        "Currencies",
        (
            C504,
            C504,
            Data("5402", "Rate of exchange", "n..12"),
            Data("6341", "Currency market exchange, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "PCD",
        "Percentage details",
        (
            _composite(
                "C501",
                "Percentage details",
                M,
                Data("5245", "Percentage qualifier", "an..3", M),
                Data("5482", "Percentage", "n..10"),
                Data("5249", "Percentage basis, coded", "an..3"),
                *_code_source(),
            ),
        ),
    ),
    SegmentSpec(
        "PAT",
        "Payment terms basis",
        (
            Data("4279", "Payment terms type qualifier", "an..3", M),
            _composite(
                "C110",
                "Payment terms",
                C,
                Data("4277", "Terms of payment identification", "an..17", M),
                *_code_source(),
                *_repeat(Data("4276", "Terms of payment", "an..35"), 2),
            ),
            _composite(
                "C112",
                "Terms/time information",
                C,
                Data("2475", "Payment time reference, coded", "an..3", M),
                Data("2009", "Time relation, coded", "an..3"),
                Data("2151", "Type of period, coded", "an..3"),
                Data("2152", "Number of periods", "n..3"),
            ),
        ),
    ),
    SegmentSpec(
        "TOD",
        "Terms of delivery or transport",
        (
            Data("4055", "Terms of delivery or transport function, coded", "an..3"),
            Data("4215", "Transport charges method of payment, coded", "an..3"),
            _composite(
                "C100",
                "Terms of delivery or transport",
                C,
                Data("4053", "Terms of delivery or transport, coded", "an..3"),
                *_code_source(),
                *_repeat(Data("4052", "Terms of delivery or transport", "an..70"), 2),
            ),
        ),
    ),
    SegmentSpec(
        "LIN",
        "Line item",
        (
            Data("1082", "Line item number", "an..6"),
            Data("1229", "Action request/notification, coded", "an..3"),
            C212,
            _composite(
                "C829",
                "Sub-line information",
                C,
                Data("5495", "Sub-line indicator, coded", "an..3"),
                Data("1082", "Line item number", "an..6"),
            ),
            Data("1222", "Configuration level", "n..2"),
            Data("7083", "Configuration, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "PIA",
        "Additional product id",
        (
            Data("4347", "Product id. function qualifier", "an..3", M),
            Composite(C212.id, C212.name, C212.components, M),
            *(C212,) * 4,
        ),
    ),
    SegmentSpec(
        "QTY",
        "Quantity",
        (
            _composite(
                "C186",
                "Quantity details",
                M,
                Data("6063", "Quantity qualifier", "an..3", M),
                Data("6060", "Quantity", "n..15", M),
                Data("6411", "Measure unit qualifier", "an..3"),
            ),
        ),
    ),
    SegmentSpec(
        "PRI",
        "Price details",
        (
            _composite(
                "C509",
                "Price information",
                C,
                Data("5125", "Price qualifier", "an..3", M),
                Data("5118", "Price", "n..15"),
                Data("5375", "Price type, coded", "an..3"),
                Data("5387", "Price type qualifier", "an..3"),
                Data("5284", "Unit price basis", "n..9"),
                Data("6411", "Measure unit qualifier", "an..3"),
            ),
            Data("5213", "Sub-line price change, coded", "an..3"),
        ),
    ),
    SegmentSpec("UNS", "Section control", (Data("0081", "Section identification", "a1", M, codes("D", "S")),)),
    SegmentSpec(
        "CNT",
        "Control total",
        (
            _composite(
                "C270",
                "Control",
                M,
                Data("6069", "Control qualifier", "an..3", M),
                Data("6066", "Control value", "n..18", M),
                Data("6411", "Measure unit qualifier", "an..3"),
            ),
        ),
    ),
    SegmentSpec(
        "ALC",
        "Allowance or charge",
        (
            Data("5463", "Allowance or charge qualifier", "an..3", M),
            _composite(
                "C552",
                "Allowance/charge information",
                C,
                Data("1230", "Allowance or charge number", "an..35"),
                Data("5189", "Charge/allowance description, coded", "an..3"),
            ),
            Data("4471", "Settlement, coded", "an..3"),
            Data("1227", "Calculation sequence indicator, coded", "an..3"),
            _composite(
                "C214",
                "Special services identification",
                C,
                Data("7161", "Special services, coded", "an..3"),
                *_code_source(),
                *_repeat(Data("7160", "Special service", "an..35"), 2),
            ),
        ),
    ),
    SegmentSpec(
        "DOC",
        "Document/message details",
        (
            Composite(C002.id, C002.name, C002.components, M),
            _composite(
                "C503",
                "Document/message details",
                C,
                Data("1004", "Document/message number", "an..35"),
                Data("1373", "Document/message status, coded", "an..3"),
                Data("1366", "Document/message source", "an..35"),
                Data("3453", "Language, coded", "an..3"),
            ),
            Data("3153", "Communication channel identifier, coded", "an..3"),
            Data("1220", "Number of copies of document required", "n..2"),
            Data("1218", "Number of originals of document required", "n..2"),
        ),
    ),
    SegmentSpec(
        "AJT",
        "Adjustment details",
        (Data("4465", "Adjustment reason, coded", "an..3", M), Data("1082", "Line item number", "an..6")),
    ),
    SegmentSpec(
        "DLI",
        "Document line identification",
        (Data("1073", "Document line indicator, coded", "an..3", M), Data("1082", "Line item number", "an..6")),
    ),
    SegmentSpec(
        "ERC",
        "Application error information",
        (
            _composite(
                "C901",
                "Application error detail",
                M,
                Data("9321", "Application error identification", "an..8", M),
                *_code_source(),
            ),
        ),
    ),
    SegmentSpec(
        "AUT",
        "Authentication result",
        (Data("9280", "Validation result", "an..35", M), Data("9282", "Validation key identification", "an..35")),
    ),
)
DIRECTORY = {spec.tag: spec for spec in _SEGMENTS}

# Date/time formats the translation reads: 102 CCYYMMDD, 203 CCYYMMDDHHMM, 204 CCYYMMDDHHMMSS, 101 YYMMDD.
DATE_FORMATS = codes("101", "102", "203", "204")


def _dtm(mandatory: bool, repeats: int, *qualifiers: str) -> Use:
    return Use("DTM", mandatory, repeats, codes={"1.1": codes(*qualifiers), "1.3": DATE_FORMATS}, required={"1.2"})


def _parties(max_repeat: int, qualifiers: frozenset[str]) -> Group:
    """SG: NAD-LOC-FII-SG(RFF-DTM)-SG(DOC-DTM)-SG(CTA-COM), as ORDERS's SG2 (REMADV's SG1 is a subset)."""
    return Group(
        "SG2",
        C,
        max_repeat,
        (
            Use("NAD", M, 1, codes={"1": qualifiers}),
            Use("LOC", C, 25),
            Use("FII", C, 5),
            Group("SG3", C, 10, (Use("RFF", M, 1), Use("DTM", C, 5))),
            Group("SG4", C, 5, (Use("DOC", M, 1), Use("DTM", C, 5))),
            Group("SG5", C, 5, (Use("CTA", M, 1), Use("COM", C, 5))),
        ),
    )


# ORDERS D.96A, heading / detail / summary as the standard orders them; groups Amazon has no use for (transport,
# packaging, equipment, scheduling) are left out on purpose and would quarantine a message that carries them.
ORDERS = MessageSpec(
    "ORDERS",
    "D",
    "96A",
    "UN",
    (
        # 220 order; message function 9 original, 5 replace, 1 cancel: Amazon's UK guide uses nothing else.
        Use("BGM", M, 1, codes={"1.1": codes("220"), "3": codes("1", "5", "9")}, required={"1.1", "2", "3"}),
        # 137 order date, 2 / 64 / 63 requested / earliest / latest delivery, 69 promised, 10 shipment.
        _dtm(M, 35, "137", "2", "10", "63", "64", "69"),
        Use("PAI", C, 1),
        Use("ALI", C, 5),
        Use("IMD", C, 1),
        Use("FTX", C, 99),
        Group("SG1", C, 10, (Use("RFF", M, 1, required={"1.2"}), Use("DTM", C, 5))),
        _parties(99, codes("BY", "SU", "DP", "IV", "ST", "BT", "OB", "UC")),
        Group("SG6", C, 5, (Use("TAX", M, 1), Use("MOA", C, 1), Use("LOC", C, 5))),
        Group("SG7", C, 5, (Use("CUX", M, 1, required={"1"}), Use("PCD", C, 5), Use("DTM", C, 5))),
        Group("SG8", C, 10, (Use("PAT", M, 1), Use("DTM", C, 5), Use("PCD", C, 1), Use("MOA", C, 1))),
        Group("SG11", C, 5, (Use("TOD", M, 1), Use("LOC", C, 2))),
        Group("SG18", C, 15, (Use("ALC", M, 1), Use("ALI", C, 5), Use("DTM", C, 5))),
        Group(
            "SG25",
            C,
            200_000,
            (
                Use("LIN", M, 1, required={"1"}),
                Use("PIA", C, 25),
                Use("IMD", C, 99),
                Use("QTY", C, 10),
                Use("PCD", C, 5),
                Use("ALI", C, 5),
                Use("DTM", C, 35),
                Use("MOA", C, 10),
                Use("FTX", C, 99),
                Group("SG26", C, 25, (Use("PRI", M, 1, required={"1"}), Use("CUX", C, 1), Use("DTM", C, 5))),
                Group("SG27", C, 10, (Use("RFF", M, 1), Use("DTM", C, 5))),
                Group("SG31", C, 10, (Use("TAX", M, 1), Use("MOA", C, 1), Use("LOC", C, 5))),
                Group(
                    "SG32",
                    C,
                    999,
                    (Use("NAD", M, 1), Use("LOC", C, 5), Group("SG33", C, 10, (Use("RFF", M, 1), Use("DTM", C, 5)))),
                ),
                Group("SG36", C, 15, (Use("ALC", M, 1), Use("ALI", C, 5), Use("DTM", C, 5))),
            ),
        ),
        Use("UNS", M, 1, codes={"1": codes("S")}),
        Use("MOA", C, 12),
        # 1 total of quantities, 2 number of lines.
        Use("CNT", C, 10, codes={"1.1": codes("1", "2")}),
    ),
    DIRECTORY,
)

# REMADV D.96A (EANCOM 1997 REMADV 002): remittance advice 481; MOA 9 amount due, 12 remitted, 52 discount,
# 165 adjustment; DOC 380 invoice, 381 credit note, 383 debit note and EANCOM's 82 / 83 / 84 adjustments.
REMADV = MessageSpec(
    "REMADV",
    "D",
    "96A",
    "UN",
    (
        Use("BGM", M, 1, codes={"1.1": codes("481"), "3": codes("9")}, required={"1.1", "2"}),
        _dtm(M, 5, "137", "140", "171", "202", "209"),
        Use("RFF", C, 5, required={"1.2"}),
        Use("FII", C, 5),
        Use("FTX", C, 5),
        Use("PAI", C, 1),
        Group(
            "SG1",
            C,
            99,
            (
                Use("NAD", M, 1, codes={"1": codes("PR", "PE", "BY", "SU", "II", "IV", "PB", "RB")}),
                Group("SG2", C, 5, (Use("CTA", M, 1), Use("COM", C, 5))),
            ),
        ),
        Group("SG3", C, 5, (Use("CUX", M, 1, required={"1", "1.2"}), Use("DTM", C, 1))),
        Group(
            "SG4",
            C,
            9999,
            (
                Use(
                    "DOC",
                    M,
                    1,
                    codes={"1.1": codes("380", "381", "383", "82", "83", "84", "71", "325", "386", "389", "390")},
                    required={"1.1", "2", "2.1"},
                ),
                Use("MOA", M, 5, codes={"1.1": codes("9", "12", "23", "52", "124", "165")}, required={"1.2"}),
                Use("DTM", C, 5),
                Use("RFF", C, 5, required={"1.2"}),
                Use("NAD", C, 2),
                Group("SG5", C, 5, (Use("CUX", M, 1), Use("DTM", C, 1))),
                Group("SG6", C, 100, (Use("AJT", M, 1), Use("MOA", C, 1), Use("RFF", C, 1), Use("FTX", C, 5))),
                Group(
                    "SG8",
                    C,
                    9999,
                    (
                        Use("DLI", M, 1),
                        Use("MOA", C, 5),
                        Use("PIA", C, 5),
                        Use("DTM", C, 5),
                        Group("SG9", C, 5, (Use("CUX", M, 1), Use("DTM", C, 1))),
                        Group("SG10", C, 10, (Use("AJT", M, 1), Use("MOA", C, 1), Use("RFF", C, 1), Use("FTX", C, 5))),
                    ),
                ),
            ),
        ),
        Use("UNS", M, 1, codes={"1": codes("S")}),
        Use("MOA", M, 5, codes={"1.1": codes("9", "12", "52", "165")}, required={"1.2"}),
        Use("CNT", C, 1),
        Group("SG11", C, 5, (Use("AUT", M, 1), Use("DTM", C, 1))),
        Use("FTX", C, 5),
    ),
    DIRECTORY,
)

# APERAK D.96A: Amazon's application answer to a document we sent (its use by Amazon is unconfirmed).
APERAK = MessageSpec(
    "APERAK",
    "D",
    "96A",
    "UN",
    (
        Use("BGM", M, 1),
        Use("DTM", C, 9),
        Use("FTX", C, 9),
        Use("CNT", C, 9),
        Group("SG1", C, 9, (Use("DOC", M, 1), Use("DTM", C, 99))),
        Group("SG2", C, 9, (Use("RFF", M, 1, required={"1.2"}), Use("DTM", C, 9))),
        Group("SG3", C, 9, (Use("NAD", M, 1), Use("CTA", C, 9), Use("COM", C, 9))),
        Group(
            "SG4",
            C,
            99_999,
            (Use("ERC", M, 1), Use("FTX", C, 1), Group("SG5", C, 1, (Use("RFF", M, 1), Use("FTX", C, 9)))),
        ),
    ),
    DIRECTORY,
)

# ORDRSP D.96A (EANCOM 1997 ORDRSP, EAN005): our answer to an ORDERS, written by `pipelines.orders.documents`.
# We are the sender, so the definition holds exactly what we write and the codes we mean: a document that drifts
# from it is refused before it leaves. Group names are labels for error messages, numbered as EANCOM's ORDRSP
# numbers them (unverified against the D.96A table). Which codes Amazon expects is unconfirmed beyond the BGM
# document name 231 and the response types AP / AC / RE; see the constants in `pipelines.orders.documents`.
ORDRSP = MessageSpec(
    "ORDRSP",
    "D",
    "96A",
    "UN",
    (
        # 231 purchase order response; 1225 29 accepted without amendment, 4 change, 27 not accepted;
        # 4343 AP accepted, AC accepted with change, RE rejected.
        Use(
            "BGM",
            M,
            1,
            codes={"1.1": codes("231"), "3": codes("4", "27", "29"), "4": codes("AC", "AP", "RE")},
            required={"1.1", "2", "3", "4"},
        ),
        # 137 document date.
        _dtm(M, 35, "137"),
        # ON the purchase order answered, with its date (171 reference date).
        Group("SG1", C, 10, (Use("RFF", M, 1, codes={"1.1": codes("ON")}, required={"1.2"}), _dtm(C, 5, "171"))),
        # BY Amazon, SU us, DP the delivery party the order named, each by its party id.
        Group("SG3", C, 99, (Use("NAD", M, 1, codes={"1": codes("BY", "SU", "DP")}, required={"2"}),)),
        Group("SG8", C, 5, (Use("CUX", M, 1, required={"1", "1.2"}),)),
        Group(
            "SG26",
            C,
            200_000,
            (
                # 1229: 5 accepted without amendment, 6 accepted with amendment, 7 not accepted.
                Use("LIN", M, 1, codes={"2": codes("5", "6", "7")}, required={"1", "2"}),
                # 5 product identification: the identifiers the order sent beyond the one in LIN.
                Use("PIA", C, 25, codes={"1": codes("5")}),
                # 21 ordered, 12 despatch (accepted), 83 backorder, 182 cancelled (rejected).
                Use("QTY", M, 10, codes={"1.1": codes("21", "12", "83", "182")}),
                # 11 despatch date of the accepted quantity, 44 availability date of the backordered one.
                _dtm(C, 35, "11", "44"),
                Group("SG30", M, 25, (Use("PRI", M, 1, codes={"1.1": codes("AAA")}, required={"1", "1.2"}),)),
            ),
        ),
        Use("UNS", M, 1, codes={"1": codes("S")}),
        # 2 number of lines.
        Use("CNT", C, 10, codes={"1.1": codes("2")}),
    ),
    DIRECTORY,
)

C208 = _composite(
    "C208",
    "Identity number range",
    C,
    Data("7402", "Identity number", "an..35", M),
    Data("7402", "Identity number", "an..35"),
)

# Segments only the despatch advice uses: measurements, transport, the packing hierarchy (CPS), packages (PAC),
# their markings (PCI) and the identity numbers on them (GIN: SSCCs, lot numbers). D.96A segment directory.
_DESPATCH_SEGMENTS = (
    SegmentSpec(
        "MEA",
        "Measurements",
        (
            Data("6311", "Measurement application qualifier", "an..3", M),
            _composite(
                "C502",
                "Measurement details",
                C,
                Data("6313", "Measurement dimension, coded", "an..3"),
                Data("6321", "Measurement significance, coded", "an..3"),
                Data("6155", "Measurement attribute, coded", "an..3"),
                Data("6154", "Measurement attribute", "an..70"),
            ),
            _composite(
                "C174",
                "Value/range",
                C,
                Data("6411", "Measure unit qualifier", "an..3", M),
                Data("6314", "Measurement value", "an..18"),
                Data("6162", "Range minimum", "n..18"),
                Data("6152", "Range maximum", "n..18"),
                Data("6432", "Significant digits", "n..2"),
            ),
            Data("7383", "Surface/layer indicator, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "TDT",
        "Details of transport",
        (
            Data("8051", "Transport stage qualifier", "an..3", M),
            Data("8028", "Conveyance reference number", "an..17"),
            _composite(
                "C220",
                "Mode of transport",
                C,
                Data("8067", "Mode of transport, coded", "an..3"),
                Data("8066", "Mode of transport", "an..17"),
            ),
            _composite(
                "C228",
                "Transport means",
                C,
                Data("8179", "Type of means of transport identification", "an..8"),
                Data("8178", "Type of means of transport", "an..17"),
            ),
            _composite(
                "C040",
                "Carrier",
                C,
                Data("3127", "Carrier identification", "an..17"),
                *_code_source(),
                Data("3128", "Carrier name", "an..35"),
            ),
            Data("8101", "Transit direction, coded", "an..3"),
            _composite(
                "C401",
                "Excess transportation information",
                C,
                Data("8457", "Excess transportation reason, coded", "an..3", M),
                Data("8459", "Excess transportation responsibility, coded", "an..3", M),
                Data("7130", "Customer authorization number", "an..17"),
            ),
            _composite(
                "C222",
                "Transport identification",
                C,
                Data("8213", "Id. of means of transport identification", "an..9"),
                *_code_source(),
                Data("8212", "Id. of the means of transport", "an..35"),
                Data("8453", "Nationality of means of transport, coded", "an..3"),
            ),
            Data("8281", "Transport ownership, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "CPS",
        "Consignment packing sequence",
        (
            Data("7164", "Hierarchical id. number", "an..12", M),
            Data("7166", "Hierarchical parent id.", "an..12"),
            Data("7075", "Packaging level, coded", "an..3"),
        ),
    ),
    SegmentSpec(
        "PAC",
        "Package",
        (
            Data("7224", "Number of packages", "n..8"),
            _composite(
                "C531",
                "Packaging details",
                C,
                Data("7075", "Packaging level, coded", "an..3"),
                Data("7233", "Packaging related information, coded", "an..3"),
                Data("7073", "Packaging terms and conditions, coded", "an..3"),
            ),
            _composite(
                "C202",
                "Package type",
                C,
                Data("7065", "Type of packages identification", "an..17"),
                *_code_source(),
                Data("7064", "Type of packages", "an..35"),
            ),
            _composite(
                "C402",
                "Package type identification",
                C,
                Data("7077", "Item description type, coded", "an..3", M),
                Data("7064", "Type of packages", "an..35", M),
                Data("7143", "Item number type, coded", "an..3"),
                Data("7064", "Type of packages", "an..35"),
                Data("7143", "Item number type, coded", "an..3"),
            ),
            _composite(
                "C532",
                "Returnable package details",
                C,
                Data("8395", "Returnable package freight payment responsibility, coded", "an..3"),
                Data("8393", "Returnable package load contents, coded", "an..3"),
            ),
        ),
    ),
    SegmentSpec(
        "PCI",
        "Package identification",
        (
            Data("4233", "Marking instructions, coded", "an..3"),
            _composite("C210", "Marks & labels", C, *_repeat(Data("7102", "Shipping marks", "an..35", M), 10)),
            Data("8275", "Container/package status, coded", "an..3"),
            _composite(
                "C827",
                "Type of marking",
                C,
                Data("7511", "Type of marking, coded", "an..3", M),
                *_code_source(),
            ),
        ),
    ),
    SegmentSpec(
        "GIN",
        "Goods identity number",
        (
            Data("7405", "Identity number qualifier", "an..3", M),
            Composite(C208.id, C208.name, C208.components, M),
            *(C208,) * 4,
        ),
    ),
)
DESPATCH_DIRECTORY = DIRECTORY | {spec.tag: spec for spec in _DESPATCH_SEGMENTS}

# DESADV D.96A (EANCOM 1997 DESADV, EAN005): our ship notice, written by `pipelines.shipments.edifact`. As for
# ORDRSP, the definition holds exactly what we write and the codes we mean. Structure, group numbers and codes
# follow Amazon EU's own DESADV example (an interchange from its EDI guide, kept as a test fixture in a public
# integration: BGM+351::9, DTM 11 / 132 / 137, RFF DQ / ON, NAD DP / SU, TDT+20++30+31, CPS 1 then one CPS per
# package with PAC+1+:52+PK, PCI+33E, GIN+BJ and its LINs, QTY 12, RFF ON, PCI+17 / DTM 361 / GIN+BX). What that
# example does not show is marked where its code is chosen, in `pipelines.shipments.edifact`.
DESADV = MessageSpec(
    "DESADV",
    "D",
    "96A",
    "UN",
    (
        # 351 despatch advice (agency 9, EAN); 1225 9 original.
        Use(
            "BGM",
            M,
            1,
            codes={"1.1": codes("351"), "1.3": codes("9"), "3": codes("9")},
            required={"1.1", "2", "3"},
        ),
        # 11 despatch date, 132 estimated delivery date, 137 document date.
        _dtm(M, 10, "11", "132", "137"),
        # AAE measurement, G gross weight, in kilograms.
        Use("MEA", C, 5, codes={"1": codes("AAE"), "2.1": codes("G"), "3.1": codes("KGM")}, required={"3", "3.2"}),
        # DQ despatch note, ON purchase order, BM bill of lading, CN carrier's reference, ACD Amazon reference.
        Group("SG1", C, 10, (Use("RFF", M, 1, codes={"1.1": codes("DQ", "ON", "BM", "CN", "ACD")}, required={"1.2"}),)),
        # DP the delivery party the order named, SU us, CA the carrier.
        Group("SG2", C, 99, (Use("NAD", M, 1, codes={"1": codes("DP", "SU", "CA")}),)),
        # 20 main carriage, 30 road, 31 truck.
        Group("SG6", C, 10, (Use("TDT", M, 1, codes={"1": codes("20"), "3.1": codes("30"), "4.1": codes("31")}),)),
        Group(
            "SG10",
            M,
            9999,
            (
                Use("CPS", M, 1),
                Group(
                    "SG11",
                    C,
                    9999,
                    (
                        # 52 barcoded UCC/EAN-128; 201 pallet, PK package (a carton), as Amazon's example says them.
                        Use(
                            "PAC",
                            M,
                            1,
                            codes={"2.2": codes("52"), "3.1": codes("201", "PK")},
                            required={"1", "3", "3.1"},
                        ),
                        Group(
                            "SG13",
                            C,
                            1000,
                            (
                                # 33E marked with an SSCC; BJ its serial shipping container code.
                                Use("PCI", M, 1, codes={"1": codes("33E")}, required={"1"}),
                                Group("SG14", C, 1000, (Use("GIN", M, 1, codes={"1": codes("BJ")}),)),
                            ),
                        ),
                    ),
                ),
                Group(
                    "SG15",
                    C,
                    9999,
                    (
                        Use("LIN", M, 1, required={"1"}),
                        # 5 product identification: the identifiers the order sent beyond the one in LIN.
                        Use("PIA", C, 10, codes={"1": codes("5")}),
                        # 12 despatch quantity.
                        Use("QTY", M, 10, codes={"1.1": codes("12")}),
                        Group("SG16", C, 10, (Use("RFF", M, 1, codes={"1.1": codes("ON")}, required={"1.2"}),)),
                        Group(
                            "SG20",
                            C,
                            1000,
                            (
                                # 17 seller's instructions, then the expiry date (361) and lot number (BX).
                                Use("PCI", M, 1, codes={"1": codes("17")}, required={"1"}),
                                _dtm(C, 5, "361"),
                                Group("SG21", C, 99, (Use("GIN", M, 1, codes={"1": codes("BX")}),)),
                            ),
                        ),
                    ),
                ),
            ),
        ),
        # 2 number of line items (LIN segments).
        Use("CNT", C, 5, codes={"1.1": codes("2")}),
    ),
    DESPATCH_DIRECTORY,
)

# INVOIC D.96A (EANCOM 1997 INVOIC, EAN008): our invoice, written by `pipelines.invoices.edifact`, holding exactly
# what we write. Group names are labels for error messages, numbered as EANCOM's INVOIC numbers them (unverified
# against the D.96A table); the codes Amazon expects are unconfirmed beyond BGM 380 and the summary amounts the
# domain notes list (MOA 77 / 79 / 86 / 124 / 125); see the constants in `pipelines.invoices.edifact`.
INVOIC = MessageSpec(
    "INVOIC",
    "D",
    "96A",
    "UN",
    (
        # 380 commercial invoice; 1225 9 original.
        Use("BGM", M, 1, codes={"1.1": codes("380"), "3": codes("9")}, required={"1.1", "2", "3"}),
        # 137 invoice date.
        _dtm(M, 35, "137"),
        # ON the purchase order invoiced (with its date, 171), VN our sales order.
        Group(
            "SG1",
            C,
            99,
            (Use("RFF", M, 1, codes={"1.1": codes("ON", "VN")}, required={"1.2"}), _dtm(C, 5, "171")),
        ),
        # SU us (with our VAT number, RFF VA), BY and IV Amazon, DP the delivery party the order named.
        Group(
            "SG2",
            C,
            99,
            (
                Use("NAD", M, 1, codes={"1": codes("SU", "BY", "IV", "DP")}, required={"2"}),
                Group("SG3", C, 9999, (Use("RFF", M, 1, codes={"1.1": codes("VA")}, required={"1.2"}),)),
            ),
        ),
        # 2 reference currency, 4 invoicing currency.
        Group("SG7", C, 99, (Use("CUX", M, 1, codes={"1.1": codes("2"), "1.3": codes("4")}, required={"1", "1.2"}),)),
        # 1 basic terms: 5 from the invoice date, 3 after, D days.
        Group("SG8", C, 10, (Use("PAT", M, 1, codes={"1": codes("1"), "3.1": codes("5")}, required={"3"}),)),
        # A allowance, C charge, each with its amount (MOA 8).
        Group(
            "SG15",
            C,
            99,
            (
                Use("ALC", M, 1, codes={"1": codes("A", "C")}, required={"2", "2.1"}),
                Group("SG19", M, 2, (Use("MOA", M, 1, codes={"1.1": codes("8")}, required={"1.2"}),)),
            ),
        ),
        Group(
            "SG25",
            M,
            9999,
            (
                Use("LIN", M, 1, required={"1"}),
                # 5 product identification: the identifiers the order sent beyond the one in LIN.
                Use("PIA", C, 25, codes={"1": codes("5")}),
                # 47 invoiced quantity.
                Use("QTY", M, 5, codes={"1.1": codes("47")}),
                # 203 line item amount (net).
                Group("SG26", M, 5, (Use("MOA", M, 1, codes={"1.1": codes("203")}, required={"1.2"}),)),
                # AAA net unit price.
                Group("SG28", M, 25, (Use("PRI", M, 1, codes={"1.1": codes("AAA")}, required={"1", "1.2"}),)),
                # ON the order and its line.
                Group("SG29", M, 10, (Use("RFF", M, 1, codes={"1.1": codes("ON")}, required={"1.2"}),)),
                # 7 tax, VAT at the rate in C243, then the line's tax amount (MOA 124).
                Group(
                    "SG33",
                    M,
                    99,
                    (
                        Use("TAX", M, 1, codes={"1": codes("7"), "2.1": codes("VAT")}, required={"2", "5", "5.4"}),
                        Use("MOA", M, 1, codes={"1.1": codes("124")}, required={"1.2"}),
                    ),
                ),
            ),
        ),
        Use("UNS", M, 1, codes={"1": codes("S")}),
        # 2 number of lines.
        Use("CNT", C, 10, codes={"1.1": codes("2")}),
        # 77 invoice amount, 79 lines total, 86 message total, 124 tax, 125 taxable amount, 131 charges/allowances.
        Group(
            "SG48",
            M,
            100,
            (Use("MOA", M, 1, codes={"1.1": codes("77", "79", "86", "124", "125", "131")}, required={"1.2"}),),
        ),
        # Per VAT rate: its taxable amount (125) and tax (124).
        Group(
            "SG50",
            M,
            10,
            (
                Use("TAX", M, 1, codes={"1": codes("7"), "2.1": codes("VAT")}, required={"2", "5", "5.4"}),
                Use("MOA", M, 2, codes={"1.1": codes("124", "125")}, required={"1.2"}),
            ),
        ),
    ),
    DIRECTORY,
)
