"""Rows of the ``ovs`` library's IDL as plain values, converted again only when they change.

Reading a column of an IDL row converts the column's datum to Python on
every read; at a thousand ports, reading every row on every change of
anything took most of the daemon's time.  A row whose datums hold the same
atoms as last time (a shallow compare: the library updates a map or set
datum in place) holds what it held then, and its converted value is kept.
"""


def _atoms(datum):
    values = getattr(datum, "values", None)
    return dict(values) if isinstance(values, dict) else None


class RowReader:
    """Converted rows of the IDL tables ``columns`` names (``{table: [column, ...]}``)."""

    def __init__(self, columns):
        self.columns = {table: list(names) for table, names in columns.items()}
        self._seen = {table: {} for table in columns}

    def rows(self, idl, table, convert):
        """``convert(row)`` for every row of ``table``, reusing the values of unchanged rows."""
        seen, fresh, values = self._seen[table], {}, []
        names = self.columns[table]
        for row in idl.tables[table].rows.values():
            data = getattr(row, "_data", None)     # the library's datums; absent: convert
            atoms = None
            if isinstance(data, dict):
                atoms = tuple(_atoms(data.get(c)) for c in names)
                if None in atoms:
                    atoms = None
            old = seen.get(row.uuid)
            if atoms is not None and old is not None and old[0] == atoms:
                value = old[1]
            else:
                value = convert(row)
            if atoms is not None:
                fresh[row.uuid] = (atoms, value)
            values.append(value)
        self._seen[table] = fresh
        return values
