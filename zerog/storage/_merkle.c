/* Keccak-256 merkle trees over 256-byte chunks, without the GIL.
 *
 * The hot loop of file roots: hashing every chunk and every pair of nodes. Doing it here instead of
 * one Python call per hash removes the per-chunk interpreter overhead, and releasing the GIL lets
 * threads use every core on one buffer without copying it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define RATE 136 /* keccak-256: 1600-bit state, 512-bit capacity */
#define HASH 32

static const uint64_t RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

#define ROL(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/* Unrolled keccak-f[1600]: lane a{x}{y} = s[x + 5y]; generated from the spec's rho offsets. */
static void keccak_f(uint64_t s[25]) {
    uint64_t a00 = s[0];
    uint64_t a10 = s[1];
    uint64_t a20 = s[2];
    uint64_t a30 = s[3];
    uint64_t a40 = s[4];
    uint64_t a01 = s[5];
    uint64_t a11 = s[6];
    uint64_t a21 = s[7];
    uint64_t a31 = s[8];
    uint64_t a41 = s[9];
    uint64_t a02 = s[10];
    uint64_t a12 = s[11];
    uint64_t a22 = s[12];
    uint64_t a32 = s[13];
    uint64_t a42 = s[14];
    uint64_t a03 = s[15];
    uint64_t a13 = s[16];
    uint64_t a23 = s[17];
    uint64_t a33 = s[18];
    uint64_t a43 = s[19];
    uint64_t a04 = s[20];
    uint64_t a14 = s[21];
    uint64_t a24 = s[22];
    uint64_t a34 = s[23];
    uint64_t a44 = s[24];
    for (int round = 0; round < 24; round++) {
        uint64_t c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04;
        uint64_t c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14;
        uint64_t c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24;
        uint64_t c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34;
        uint64_t c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44;
        uint64_t d0 = c4 ^ ROL(c1, 1);
        uint64_t d1 = c0 ^ ROL(c2, 1);
        uint64_t d2 = c1 ^ ROL(c3, 1);
        uint64_t d3 = c2 ^ ROL(c4, 1);
        uint64_t d4 = c3 ^ ROL(c0, 1);
        uint64_t b00 = (a00 ^ d0);
        uint64_t b13 = ROL((a01 ^ d0), 36);
        uint64_t b21 = ROL((a02 ^ d0), 3);
        uint64_t b34 = ROL((a03 ^ d0), 41);
        uint64_t b42 = ROL((a04 ^ d0), 18);
        uint64_t b02 = ROL((a10 ^ d1), 1);
        uint64_t b10 = ROL((a11 ^ d1), 44);
        uint64_t b23 = ROL((a12 ^ d1), 10);
        uint64_t b31 = ROL((a13 ^ d1), 45);
        uint64_t b44 = ROL((a14 ^ d1), 2);
        uint64_t b04 = ROL((a20 ^ d2), 62);
        uint64_t b12 = ROL((a21 ^ d2), 6);
        uint64_t b20 = ROL((a22 ^ d2), 43);
        uint64_t b33 = ROL((a23 ^ d2), 15);
        uint64_t b41 = ROL((a24 ^ d2), 61);
        uint64_t b01 = ROL((a30 ^ d3), 28);
        uint64_t b14 = ROL((a31 ^ d3), 55);
        uint64_t b22 = ROL((a32 ^ d3), 25);
        uint64_t b30 = ROL((a33 ^ d3), 21);
        uint64_t b43 = ROL((a34 ^ d3), 56);
        uint64_t b03 = ROL((a40 ^ d4), 27);
        uint64_t b11 = ROL((a41 ^ d4), 20);
        uint64_t b24 = ROL((a42 ^ d4), 39);
        uint64_t b32 = ROL((a43 ^ d4), 8);
        uint64_t b40 = ROL((a44 ^ d4), 14);
        a00 = b00 ^ (~b10 & b20);
        a01 = b01 ^ (~b11 & b21);
        a02 = b02 ^ (~b12 & b22);
        a03 = b03 ^ (~b13 & b23);
        a04 = b04 ^ (~b14 & b24);
        a10 = b10 ^ (~b20 & b30);
        a11 = b11 ^ (~b21 & b31);
        a12 = b12 ^ (~b22 & b32);
        a13 = b13 ^ (~b23 & b33);
        a14 = b14 ^ (~b24 & b34);
        a20 = b20 ^ (~b30 & b40);
        a21 = b21 ^ (~b31 & b41);
        a22 = b22 ^ (~b32 & b42);
        a23 = b23 ^ (~b33 & b43);
        a24 = b24 ^ (~b34 & b44);
        a30 = b30 ^ (~b40 & b00);
        a31 = b31 ^ (~b41 & b01);
        a32 = b32 ^ (~b42 & b02);
        a33 = b33 ^ (~b43 & b03);
        a34 = b34 ^ (~b44 & b04);
        a40 = b40 ^ (~b00 & b10);
        a41 = b41 ^ (~b01 & b11);
        a42 = b42 ^ (~b02 & b12);
        a43 = b43 ^ (~b03 & b13);
        a44 = b44 ^ (~b04 & b14);
        a00 ^= RC[round];
    }
    s[0] = a00;
    s[1] = a10;
    s[2] = a20;
    s[3] = a30;
    s[4] = a40;
    s[5] = a01;
    s[6] = a11;
    s[7] = a21;
    s[8] = a31;
    s[9] = a41;
    s[10] = a02;
    s[11] = a12;
    s[12] = a22;
    s[13] = a32;
    s[14] = a42;
    s[15] = a03;
    s[16] = a13;
    s[17] = a23;
    s[18] = a33;
    s[19] = a43;
    s[20] = a04;
    s[21] = a14;
    s[22] = a24;
    s[23] = a34;
    s[24] = a44;
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only (x86_64, aarch64) */
    return v;
}

static void keccak256(const uint8_t *in, size_t len, uint8_t out[HASH]) {
    uint64_t s[25] = {0};
    while (len >= RATE) {
        for (int i = 0; i < RATE / 8; i++) s[i] ^= load64(in + 8 * i);
        keccak_f(s);
        in += RATE;
        len -= RATE;
    }
    uint8_t last[RATE] = {0};
    memcpy(last, in, len);
    last[len] ^= 0x01; /* keccak padding (not SHA-3's 0x06) */
    last[RATE - 1] ^= 0x80;
    for (int i = 0; i < RATE / 8; i++) s[i] ^= load64(last + 8 * i);
    keccak_f(s);
    memcpy(out, s, HASH);
}

/* Root of `count` nodes in place: pairs hashed level by level, an odd last node carried up. */
static void fold(uint8_t *nodes, size_t count) {
    while (count > 1) {
        size_t next = 0;
        for (size_t i = 0; i + 1 < count; i += 2, next++) keccak256(nodes + HASH * i, 2 * HASH, nodes + HASH * next);
        if (count % 2) memmove(nodes + HASH * next++, nodes + HASH * (count - 1), HASH);
        count = next;
    }
}

static PyObject *py_keccak256(PyObject *self, PyObject *args) {
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data)) return NULL;
    uint8_t out[HASH];
    Py_BEGIN_ALLOW_THREADS keccak256(data.buf, (size_t)data.len, out);
    Py_END_ALLOW_THREADS PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((const char *)out, HASH);
}

/* segment_roots(buf, chunk_size, segment_chunks) -> concatenated roots of each segment of `buf`.
 * len(buf) must be a multiple of chunk_size; the last segment may hold fewer chunks. */
static PyObject *py_segment_roots(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t chunk, per_segment;
    if (!PyArg_ParseTuple(args, "y*nn", &data, &chunk, &per_segment)) return NULL;
    if (chunk <= 0 || per_segment <= 0 || data.len % chunk) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "buffer length must be a positive multiple of the chunk size");
        return NULL;
    }
    size_t chunks = (size_t)(data.len / chunk);
    size_t segments = (chunks + per_segment - 1) / per_segment;
    PyObject *result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(segments * HASH));
    uint8_t *level = PyMem_RawMalloc((size_t)per_segment * HASH);
    if (!result || !level) {
        Py_XDECREF(result);
        PyMem_RawFree(level);
        PyBuffer_Release(&data);
        return PyErr_NoMemory();
    }
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(result);
    const uint8_t *buf = data.buf;
    Py_BEGIN_ALLOW_THREADS for (size_t seg = 0; seg < segments; seg++) {
        size_t first = seg * per_segment;
        size_t n = chunks - first < (size_t)per_segment ? chunks - first : (size_t)per_segment;
        for (size_t i = 0; i < n; i++) keccak256(buf + (first + i) * chunk, (size_t)chunk, level + HASH * i);
        fold(level, n);
        memcpy(out + HASH * seg, level, HASH);
    }
    Py_END_ALLOW_THREADS PyMem_RawFree(level);
    PyBuffer_Release(&data);
    return result;
}

/* tree_root(nodes) -> root of the concatenated 32-byte nodes (odd node carried up). */
static PyObject *py_tree_root(PyObject *self, PyObject *args) {
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data)) return NULL;
    if (data.len == 0 || data.len % HASH) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "need a positive number of 32-byte nodes");
        return NULL;
    }
    size_t count = (size_t)(data.len / HASH);
    uint8_t *nodes = PyMem_RawMalloc((size_t)data.len);
    if (!nodes) {
        PyBuffer_Release(&data);
        return PyErr_NoMemory();
    }
    memcpy(nodes, data.buf, (size_t)data.len);
    PyBuffer_Release(&data);
    Py_BEGIN_ALLOW_THREADS fold(nodes, count);
    Py_END_ALLOW_THREADS PyObject *root = PyBytes_FromStringAndSize((const char *)nodes, HASH);
    PyMem_RawFree(nodes);
    return root;
}

static PyMethodDef methods[] = {
    {"keccak256", py_keccak256, METH_VARARGS, "keccak256(data) -> 32-byte digest"},
    {"segment_roots", py_segment_roots, METH_VARARGS,
     "segment_roots(buf, chunk_size, segment_chunks) -> concatenated 32-byte roots, GIL released"},
    {"tree_root", py_tree_root, METH_VARARGS, "tree_root(nodes) -> root of concatenated 32-byte nodes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_merkle", "Keccak-256 merkle trees in C.", -1, methods};

PyMODINIT_FUNC PyInit__merkle(void) { return PyModule_Create(&module); }
