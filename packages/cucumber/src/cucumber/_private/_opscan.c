/* cucumber._private._opscan: the opcodes of a pickle stream that cucumber refuses to run, found at C speed.
 *
 * Why: CPython's C unpickler (3.10 to 3.13) has opcodes whose cost is not bounded by the input. A memo
 * store (PUT "p" + decimal line, BINPUT "q" + 1 byte, LONG_BINPUT "r" + 4 bytes) resizes the memo table to
 * twice the index it names and zero-fills it: "r" + 0x3fffffff costs 16 GB. BINBYTES "B", BINBYTES8 0x8e
 * and BYTEARRAY8 0x96 allocate the length they announce before reading it. cucumber's pickler never writes
 * a memo store (protocol 5 memoizes with MEMOIZE, whose index is the memo's size) nor a FRAME (format 2),
 * so a stream that holds one was damaged before its checksum was made, or crafted.
 *
 * What: first_hazard(stream) walks the stream opcode by opcode exactly as the C unpickler reads an
 * in-memory stream (pickle.loads of a bytes-like object) and returns the offset of the first opcode it
 * would execute that is one of
 *
 *     PUT, BINPUT, LONG_BINPUT   (any index: cucumber never writes them)
 *     FRAME                      (format 2 has none)
 *     BINBYTES, BINBYTES8, BYTEARRAY8 whose length is more than the bytes after it
 *
 * or -1 when there is none. The walk ends where the unpickler ends: at STOP, at an opcode it does not know
 * (it raises UnpicklingError there), at an argument the stream is too short for (it raises "truncated"),
 * or at a line without its newline. Where the unpickler would raise earlier for another reason (a bad
 * UTF-8 string, a stack underflow), the walk simply goes on: it may refuse a stream that would fail anyway,
 * never miss an opcode that would run.
 *
 * Arguments, by opcode (pickletools.opcodes has the same table; tests/test_opscan.py checks them against it):
 *     none          MARK STOP POP POP_MARK DUP NONE NEWTRUE NEWFALSE EMPTY_* TUPLE* LIST DICT APPEND(S)
 *                   SETITEM(S) BUILD REDUCE OBJ NEWOBJ NEWOBJ_EX STACK_GLOBAL MEMOIZE BINPERSID ADDITEMS
 *                   FROZENSET NEXT_BUFFER READONLY_BUFFER
 *     fixed bytes   BININT1 1, BININT2 2, BININT 4, BINFLOAT 8, BINGET 1, LONG_BINGET 4, PROTO 1,
 *                   EXT1 1, EXT2 2, EXT4 4
 *     1-byte length SHORT_BINSTRING, SHORT_BINBYTES, SHORT_BINUNICODE, LONG1
 *     4-byte length BINSTRING and LONG4 (signed: negative fails), BINUNICODE, BINBYTES (unsigned)
 *     8-byte length BINUNICODE8, BINBYTES8, BYTEARRAY8 (unsigned)
 *     one line      INT LONG FLOAT STRING UNICODE PERSID GET
 *     two lines     GLOBAL INST
 *
 * Cost: one jump per opcode and a constant-time skip over every string, bytes and large buffer: about
 * 20 us for the 61 KB stream of a dict of 10,000 ints (20,000 opcodes), 2% of its cucumber round trip.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if !defined(__GNUC__)
#error "cucumber's opcode scanner is written for GCC and Clang (labels as values)"
#endif

/* What each opcode byte takes as argument (0, the default, for the bytes that are no opcode). */
enum {
    UNKNOWN = 0, NO_ARGUMENT, BYTES_1, BYTES_2, BYTES_4, BYTES_8, LENGTH_1,
    LENGTH_4_READ, LENGTH_4_ALLOCATE, LENGTH_8_READ, LENGTH_8_ALLOCATE, ONE_LINE, TWO_LINES, REFUSED
};

static const unsigned char argument_of[256] = {
    ['('] = NO_ARGUMENT, [')'] = NO_ARGUMENT, ['0'] = NO_ARGUMENT, ['1'] = NO_ARGUMENT,
    ['2'] = NO_ARGUMENT, ['N'] = NO_ARGUMENT, ['Q'] = NO_ARGUMENT, ['R'] = NO_ARGUMENT,
    [']'] = NO_ARGUMENT, ['a'] = NO_ARGUMENT, ['b'] = NO_ARGUMENT, ['d'] = NO_ARGUMENT,
    ['e'] = NO_ARGUMENT, ['l'] = NO_ARGUMENT, ['o'] = NO_ARGUMENT, ['s'] = NO_ARGUMENT,
    ['t'] = NO_ARGUMENT, ['u'] = NO_ARGUMENT, ['}'] = NO_ARGUMENT, [0x81] = NO_ARGUMENT,
    [0x85] = NO_ARGUMENT, [0x86] = NO_ARGUMENT, [0x87] = NO_ARGUMENT, [0x88] = NO_ARGUMENT,
    [0x89] = NO_ARGUMENT, [0x8f] = NO_ARGUMENT, [0x90] = NO_ARGUMENT, [0x91] = NO_ARGUMENT,
    [0x92] = NO_ARGUMENT, [0x93] = NO_ARGUMENT, [0x94] = NO_ARGUMENT, [0x97] = NO_ARGUMENT,
    [0x98] = NO_ARGUMENT,
    ['K'] = BYTES_1, ['h'] = BYTES_1, [0x80] = BYTES_1, [0x82] = BYTES_1,
    ['M'] = BYTES_2, [0x83] = BYTES_2,
    ['J'] = BYTES_4, ['j'] = BYTES_4, [0x84] = BYTES_4,
    ['G'] = BYTES_8,
    ['U'] = LENGTH_1, ['C'] = LENGTH_1, [0x8c] = LENGTH_1, [0x8a] = LENGTH_1,
    ['T'] = LENGTH_4_READ, ['X'] = LENGTH_4_READ, [0x8b] = LENGTH_4_READ,
    ['B'] = LENGTH_4_ALLOCATE,
    [0x8d] = LENGTH_8_READ,
    [0x8e] = LENGTH_8_ALLOCATE, [0x96] = LENGTH_8_ALLOCATE,
    ['I'] = ONE_LINE, ['L'] = ONE_LINE, ['F'] = ONE_LINE, ['S'] = ONE_LINE, ['V'] = ONE_LINE,
    ['P'] = ONE_LINE, ['g'] = ONE_LINE,
    ['c'] = TWO_LINES, ['i'] = TWO_LINES,
    ['p'] = REFUSED, ['q'] = REFUSED, ['r'] = REFUSED, [0x95] = REFUSED,
    /* STOP '.' stays UNKNOWN: the walk ends there as the unpickler does */
};

/* Little-endian unsigned lengths, whatever the machine's byte order. */
static uint64_t
read_le(const unsigned char *at, int width)
{
    uint64_t value = 0;
    for (int k = width - 1; k >= 0; k--) {
        value = (value << 8) | at[k];
    }
    return value;
}

/* A counted argument at p[i] (the opcode) with a `width`-byte length: the offset after it, -1 where the
 * unpickler stops (too short: it raises "truncated" before allocating), or -2 - i when the opcode
 * allocates its length first and that length is more than what is left (refused). */
static Py_ssize_t
skip_counted(const unsigned char *p, Py_ssize_t n, Py_ssize_t i, int width, int allocates)
{
    if (n - i - 1 < width) {
        return -1;
    }
    uint64_t length = read_le(p + i + 1, width);
    if (length > (uint64_t)(n - i - 1 - width)) {
        return allocates ? -2 - i : -1;
    }
    return i + 1 + width + (Py_ssize_t)length;
}

/* The offset of the first refused opcode of p[0:n], or -1.
 *
 * Threaded dispatch (each handler jumps to the next opcode's handler itself) predicts better than one
 * switch: ~1 ns per opcode. */
static Py_ssize_t
scan(const unsigned char *p, Py_ssize_t n)
{
    static void *const handlers[] = {
        [UNKNOWN] = &&stop, [NO_ARGUMENT] = &&no_argument, [BYTES_1] = &&bytes_1,
        [BYTES_2] = &&bytes_2, [BYTES_4] = &&bytes_4, [BYTES_8] = &&bytes_8, [LENGTH_1] = &&length_1,
        [LENGTH_4_READ] = &&length_4_read, [LENGTH_4_ALLOCATE] = &&length_4_allocate,
        [LENGTH_8_READ] = &&length_8_read, [LENGTH_8_ALLOCATE] = &&length_8_allocate,
        [ONE_LINE] = &&one_line, [TWO_LINES] = &&two_lines, [REFUSED] = &&refused,
    };
    Py_ssize_t i = 0;
    int lines;
#define NEXT_OPCODE                                  \
    do {                                             \
        if (i >= n) {                                \
            return -1;                               \
        }                                            \
        goto *handlers[argument_of[p[i]]];           \
    } while (0)
#define COUNTED(width, allocates)                           \
    do {                                                    \
        i = skip_counted(p, n, i, (width), (allocates));    \
        if (i < 0) {                                        \
            return i == -1 ? -1 : -2 - i;                   \
        }                                                   \
        NEXT_OPCODE;                                        \
    } while (0)

    NEXT_OPCODE;
no_argument:
    i += 1;
    NEXT_OPCODE;
bytes_1:
    i += 2;  /* a truncated fixed-size argument ends the unpickler, and the walk */
    NEXT_OPCODE;
bytes_2:
    i += 3;
    NEXT_OPCODE;
bytes_4:
    i += 5;
    NEXT_OPCODE;
bytes_8:
    i += 9;
    NEXT_OPCODE;
length_1:
    if (i + 1 >= n) {
        return -1;
    }
    i += 2 + (Py_ssize_t)p[i + 1];
    NEXT_OPCODE;
length_4_read:
    COUNTED(4, 0);
length_4_allocate:
    COUNTED(4, 1);
length_8_read:
    COUNTED(8, 0);
length_8_allocate:
    COUNTED(8, 1);
one_line:
    lines = 1;
    goto read_lines;
two_lines:
    lines = 2;
read_lines:
    i += 1;
    while (lines--) {
        const unsigned char *newline = memchr(p + i, '\n', (size_t)(n - i));
        if (newline == NULL) {
            return -1;
        }
        i = (Py_ssize_t)(newline - p) + 1;
    }
    NEXT_OPCODE;
refused:
    return i;
stop:
    return -1;
#undef COUNTED
#undef NEXT_OPCODE
}

static PyObject *
first_hazard(PyObject *Py_UNUSED(module), PyObject *stream)
{
    Py_buffer view;
    if (PyObject_GetBuffer(stream, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    Py_ssize_t at = scan((const unsigned char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(at);
}

PyDoc_STRVAR(first_hazard_doc,
"first_hazard(stream, /)\n--\n\n"
"The offset of the first opcode of the pickle stream that cucumber refuses to run (a memo store, a\n"
"FRAME, or an allocating opcode longer than the stream), or -1 when there is none.");

static PyMethodDef methods[] = {
    {"first_hazard", first_hazard, METH_O, first_hazard_doc},
    {NULL, NULL, 0, NULL},
};

/* The module has no state: every interpreter, and a free-threaded build, may use it as it is. */
static PyModuleDef_Slot slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "cucumber._private._opscan",
    "Find the opcodes of a pickle stream that cucumber refuses to run (see the top of _opscan.c).",
    0,
    methods,
    slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__opscan(void)
{
    return PyModuleDef_Init(&module_def);
}
