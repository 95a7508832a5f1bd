"""RowReader: IDL rows converted once, again only when a column's atoms change."""

from xsovs_common.sync.rows import RowReader


class Datum:
    """As the ovs library's: ``values`` maps atoms, changed in place by a diff."""

    def __init__(self, **values):
        self.values = dict(values)


class Row:
    def __init__(self, uuid, **columns):
        self.uuid = uuid
        self._data = dict(columns)


class Table:
    def __init__(self, rows):
        self.rows = {r.uuid: r for r in rows}


class Idl:
    def __init__(self, **tables):
        self.tables = {name: Table(rows) for name, rows in tables.items()}


def test_unchanged_rows_are_not_converted_again():
    converted = []

    def convert(row):
        converted.append(row.uuid)
        return (row.uuid, dict(row._data["external_ids"].values))

    a, b = Row("a", external_ids=Datum(k="1")), Row("b", external_ids=Datum(k="2"))
    idl = Idl(Interface=[a, b])
    reader = RowReader({"Interface": ["external_ids"]})
    first = reader.rows(idl, "Interface", convert)
    assert reader.rows(idl, "Interface", convert) == first
    assert converted == ["a", "b"]
    b._data["external_ids"].values["k"] = "3"      # a diff applied in place
    assert ("b", {"k": "3"}) in reader.rows(idl, "Interface", convert)
    assert converted == ["a", "b", "b"]
    b._data["external_ids"] = Datum(k="3")         # replaced, same atoms: kept
    reader.rows(idl, "Interface", convert)
    assert converted == ["a", "b", "b"]
    del idl.tables["Interface"].rows["a"]
    assert [v[0] for v in reader.rows(idl, "Interface", convert)] == ["b"]


def test_rows_without_the_librarys_datums_are_always_converted():
    class Plain:
        uuid = "p"
    idl = Idl(Port=[])
    idl.tables["Port"].rows["p"] = Plain()
    calls = []
    reader = RowReader({"Port": ["name"]})
    for _ in range(2):
        reader.rows(idl, "Port", lambda row: calls.append(row) or 1)
    assert len(calls) == 2
