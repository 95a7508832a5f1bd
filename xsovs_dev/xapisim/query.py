"""XAPI's filter language for get_all_records_where, parsed as XAPI parses it.

Grammar (XAPI's db_filter): a value is a quoted literal "x" or field "name";
an expression is value=value, true, false, not E, E and E, E or E, (E).
`and` and `or` share one precedence level and associate to the left, so
`a or b and c` means `(a or b) and c`; `not` has the lowest precedence of
all (XAPI declares it before them), so `not a and b` means `not (a and b)`
and a `not` reaches to the closing parenthesis or the end. Values compare as
strings, so callers match XAPI's string forms ("true", "1500", refs).
Syntax errors answer INVALID_VALUE [expression, reason] as XAPI does.

Evaluation gives XAPI's answers; for speed, chains of one operator are
evaluated as one n-ary node, and `field "f"="x" or field "f"="y" or ...`
as one set look-up (clients key a query on thousands of refs).
"""

from .errors import XapiError

_KEYWORDS = ("true", "false", "field", "and", "or", "not")
_SPACE = " \t\n"


def tokenize(text):
    """Split into tokens: '=', '(', ')', keywords, ('str', literal)."""
    tokens, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
        elif c in "=()":
            tokens.append(c)
            i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise _error(text, 'Failure("lexing: empty token")')
            tokens.append(("str", text[i + 1:end]))
            i = end + 1
        else:
            for word in _KEYWORDS:
                if text.startswith(word, i):
                    tokens.append(word)
                    i += len(word)
                    break
            else:
                raise _error(text, 'Failure("lexing: empty token")')
    return tokens


def _error(text, reason):
    return XapiError("INVALID_VALUE", text, reason)


class _Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected=None):
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise _error(self.text, "Parsing.Parse_error")
        self.pos += 1
        return tok

    def parse(self):
        expr = self.expr()
        if self.peek() is not None:
            raise _error(self.text, "Parsing.Parse_error")
        return expr

    def expr(self):
        left = self.unary()
        while self.peek() in ("and", "or"):
            op = self.take()
            left = (op, left, self.unary())
        return left

    def unary(self):
        tok = self.peek()
        if tok == "not":
            self.take()
            return ("not", self.expr())
        if tok in ("true", "false"):
            self.take()
            return (tok,)
        if tok == "(":
            self.take()
            inner = self.expr()
            self.take(")")
            return inner
        left = self.value()
        self.take("=")
        return ("eq", left, self.value())

    def value(self):
        tok = self.take()
        if tok == "field":
            tok = self.take()
            if isinstance(tok, tuple):
                return ("field", tok[1])
        elif isinstance(tok, tuple):
            return ("literal", tok[1])
        raise _error(self.text, "Parsing.Parse_error")


def parse(text):
    """Parse an expression into nested tuples, or raise INVALID_VALUE."""
    return _Parser(text).parse()


def _chain(expr, op):
    """The operands of a chain of ``op`` (left-deep as the parser builds it)."""
    right = []
    while expr[0] == op:
        right.append(expr[2])
        expr = expr[1]
    return [expr] + right[::-1]


def _field_literal(expr):
    """(field, literal) of ``field "f"="x"`` (either way round), else None."""
    if expr[0] != "eq":
        return None
    kinds = (expr[1][0], expr[2][0])
    if kinds == ("field", "literal"):
        return expr[1][1], expr[2][1]
    if kinds == ("literal", "field"):
        return expr[2][1], expr[1][1]
    return None


def compile_expr(expr):
    """An equivalent tree for :func:`evaluate`: n-ary chains, set look-ups."""
    op = expr[0]
    if op == "not":
        return ("not", compile_expr(expr[1]))
    if op not in ("and", "or"):
        return expr
    terms = [compile_expr(e) for e in _chain(expr, op)]
    if op == "or":
        keyed = [_field_literal(t) for t in terms]
        fields = {k[0] for k in keyed if k is not None}
        if None not in keyed and len(fields) == 1:
            return ("in", fields.pop(), frozenset(k[1] for k in keyed))
    return ("all" if op == "and" else "any", terms)


def single_field(expr):
    """(field, values) when a compiled expression only asks that a field be one of
    some literals, else None."""
    if expr[0] == "in":
        return expr[1], expr[2]
    keyed = _field_literal(expr)
    return (keyed[0], frozenset((keyed[1],))) if keyed else None


def evaluate(expr, lookup):
    """Evaluate a compiled expression; lookup(name) gives a field's string form."""
    op = expr[0]
    if op == "true":
        return True
    if op == "false":
        return False
    if op == "not":
        return not evaluate(expr[1], lookup)
    if op == "all":
        return all(evaluate(e, lookup) for e in expr[1])
    if op == "any":
        return any(evaluate(e, lookup) for e in expr[1])
    if op == "in":
        return lookup(expr[1]) in expr[2]

    def val(v):
        return lookup(v[1]) if v[0] == "field" else v[1]

    return val(expr[1]) == val(expr[2])
