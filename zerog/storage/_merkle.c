/* Keccak-256 merkle trees over 256-byte chunks, without the GIL.
 *
 * The hot loop of file roots: hashing every chunk and every pair of nodes. Doing it here instead of
 * one Python call per hash removes the per-chunk interpreter overhead, and releasing the GIL lets
 * threads use every core on one buffer without copying it. Leaves and pairs are hashed four at a
 * time in SIMD lanes; a downloaded segment is base64-decoded and hashed here in one call.
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

/* Unrolled keccak-f[1600] on lanes of type T (a word, or a vector of words: one state per element): lane
 * a{x}{y} = s[x + 5y]; generated from the spec's rho offsets. */
#define KECCAK_F(NAME, T)                                             \
    static inline __attribute__((always_inline)) void NAME(T s[25]) { \
        T a00 = s[0];                                                 \
        T a10 = s[1];                                                 \
        T a20 = s[2];                                                 \
        T a30 = s[3];                                                 \
        T a40 = s[4];                                                 \
        T a01 = s[5];                                                 \
        T a11 = s[6];                                                 \
        T a21 = s[7];                                                 \
        T a31 = s[8];                                                 \
        T a41 = s[9];                                                 \
        T a02 = s[10];                                                \
        T a12 = s[11];                                                \
        T a22 = s[12];                                                \
        T a32 = s[13];                                                \
        T a42 = s[14];                                                \
        T a03 = s[15];                                                \
        T a13 = s[16];                                                \
        T a23 = s[17];                                                \
        T a33 = s[18];                                                \
        T a43 = s[19];                                                \
        T a04 = s[20];                                                \
        T a14 = s[21];                                                \
        T a24 = s[22];                                                \
        T a34 = s[23];                                                \
        T a44 = s[24];                                                \
        for (int round = 0; round < 24; round++) {                    \
            T c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04;                       \
            T c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14;                       \
            T c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24;                       \
            T c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34;                       \
            T c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44;                       \
            T d0 = c4 ^ ROL(c1, 1);                                   \
            T d1 = c0 ^ ROL(c2, 1);                                   \
            T d2 = c1 ^ ROL(c3, 1);                                   \
            T d3 = c2 ^ ROL(c4, 1);                                   \
            T d4 = c3 ^ ROL(c0, 1);                                   \
            T b00 = (a00 ^ d0);                                       \
            T b13 = ROL((a01 ^ d0), 36);                              \
            T b21 = ROL((a02 ^ d0), 3);                               \
            T b34 = ROL((a03 ^ d0), 41);                              \
            T b42 = ROL((a04 ^ d0), 18);                              \
            T b02 = ROL((a10 ^ d1), 1);                               \
            T b10 = ROL((a11 ^ d1), 44);                              \
            T b23 = ROL((a12 ^ d1), 10);                              \
            T b31 = ROL((a13 ^ d1), 45);                              \
            T b44 = ROL((a14 ^ d1), 2);                               \
            T b04 = ROL((a20 ^ d2), 62);                              \
            T b12 = ROL((a21 ^ d2), 6);                               \
            T b20 = ROL((a22 ^ d2), 43);                              \
            T b33 = ROL((a23 ^ d2), 15);                              \
            T b41 = ROL((a24 ^ d2), 61);                              \
            T b01 = ROL((a30 ^ d3), 28);                              \
            T b14 = ROL((a31 ^ d3), 55);                              \
            T b22 = ROL((a32 ^ d3), 25);                              \
            T b30 = ROL((a33 ^ d3), 21);                              \
            T b43 = ROL((a34 ^ d3), 56);                              \
            T b03 = ROL((a40 ^ d4), 27);                              \
            T b11 = ROL((a41 ^ d4), 20);                              \
            T b24 = ROL((a42 ^ d4), 39);                              \
            T b32 = ROL((a43 ^ d4), 8);                               \
            T b40 = ROL((a44 ^ d4), 14);                              \
            a00 = b00 ^ (~b10 & b20);                                 \
            a01 = b01 ^ (~b11 & b21);                                 \
            a02 = b02 ^ (~b12 & b22);                                 \
            a03 = b03 ^ (~b13 & b23);                                 \
            a04 = b04 ^ (~b14 & b24);                                 \
            a10 = b10 ^ (~b20 & b30);                                 \
            a11 = b11 ^ (~b21 & b31);                                 \
            a12 = b12 ^ (~b22 & b32);                                 \
            a13 = b13 ^ (~b23 & b33);                                 \
            a14 = b14 ^ (~b24 & b34);                                 \
            a20 = b20 ^ (~b30 & b40);                                 \
            a21 = b21 ^ (~b31 & b41);                                 \
            a22 = b22 ^ (~b32 & b42);                                 \
            a23 = b23 ^ (~b33 & b43);                                 \
            a24 = b24 ^ (~b34 & b44);                                 \
            a30 = b30 ^ (~b40 & b00);                                 \
            a31 = b31 ^ (~b41 & b01);                                 \
            a32 = b32 ^ (~b42 & b02);                                 \
            a33 = b33 ^ (~b43 & b03);                                 \
            a34 = b34 ^ (~b44 & b04);                                 \
            a40 = b40 ^ (~b00 & b10);                                 \
            a41 = b41 ^ (~b01 & b11);                                 \
            a42 = b42 ^ (~b02 & b12);                                 \
            a43 = b43 ^ (~b03 & b13);                                 \
            a44 = b44 ^ (~b04 & b14);                                 \
            a00 ^= RC[round];                                         \
        }                                                             \
        s[0] = a00;                                                   \
        s[1] = a10;                                                   \
        s[2] = a20;                                                   \
        s[3] = a30;                                                   \
        s[4] = a40;                                                   \
        s[5] = a01;                                                   \
        s[6] = a11;                                                   \
        s[7] = a21;                                                   \
        s[8] = a31;                                                   \
        s[9] = a41;                                                   \
        s[10] = a02;                                                  \
        s[11] = a12;                                                  \
        s[12] = a22;                                                  \
        s[13] = a32;                                                  \
        s[14] = a42;                                                  \
        s[15] = a03;                                                  \
        s[16] = a13;                                                  \
        s[17] = a23;                                                  \
        s[18] = a33;                                                  \
        s[19] = a43;                                                  \
        s[20] = a04;                                                  \
        s[21] = a14;                                                  \
        s[22] = a24;                                                  \
        s[23] = a34;                                                  \
        s[24] = a44;                                                  \
    }

KECCAK_F(keccak_f, uint64_t)

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

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
/* The same permutation on four states at once, one per vector element. */
typedef uint64_t lanes4 __attribute__((vector_size(32)));
KECCAK_F(keccak_f4, lanes4)

/* Set at load where the CPU has AVX2: four hashes at once in its vector lanes beat four in a row (about 1.6x; 3.8x
 * with AVX-512), while the baseline's SSE2 lanes do not. */
static int wide;

/* Four keccak-256 at once: messages of `len` bytes at in + m * stride, digests to out + m * HASH (m = 0..3), written
 * once all four are read (out may overlap in). The compiler makes AVX-512 and AVX2 versions (and the baseline one
 * target_clones needs), the best the CPU has picked at load: no -march flag, the build runs anywhere. */
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) static void keccak256_x4(
    const uint8_t *in, size_t stride, size_t len, uint8_t *out) {
    lanes4 s[25] = {0};
    size_t done = 0;
    for (; len - done >= RATE; done += RATE) {
        for (int i = 0; i < RATE / 8; i++) {
            const uint8_t *p = in + done + 8 * i;
            s[i] ^= (lanes4){load64(p), load64(p + stride), load64(p + 2 * stride), load64(p + 3 * stride)};
        }
        keccak_f4(s);
    }
    uint8_t last[4][RATE] = {{0}};
    for (int m = 0; m < 4; m++) {
        memcpy(last[m], in + m * stride + done, len - done);
        last[m][len - done] ^= 0x01;
        last[m][RATE - 1] ^= 0x80;
    }
    for (int i = 0; i < RATE / 8; i++)
        s[i] ^= (lanes4){load64(last[0] + 8 * i), load64(last[1] + 8 * i), load64(last[2] + 8 * i),
                         load64(last[3] + 8 * i)};
    keccak_f4(s);
    for (int m = 0; m < 4; m++)
        for (int i = 0; i < HASH / 8; i++) memcpy(out + m * HASH + 8 * i, &s[i][m], 8);
}
#define QUADS(count) (wide ? (count) / 4 : 0)
#else
#define QUADS(count) 0
#define keccak256_x4(in, stride, len, out) ((void)0)
#endif

/* Leaf hashes of `n` chunks of `chunk` bytes at `in` into `out`, four at a time where the CPU is wide. */
static void hash_leaves(const uint8_t *in, size_t chunk, size_t n, uint8_t *out) {
    size_t i = 0;
    for (size_t q = QUADS(n); q; q--, i += 4) keccak256_x4(in + i * chunk, chunk, chunk, out + HASH * i);
    for (; i < n; i++) keccak256(in + i * chunk, chunk, out + HASH * i);
}

/* Root of `count` nodes in place: pairs hashed level by level (four pairs at a time where the CPU is wide), an odd
 * last node carried up. */
static void fold(uint8_t *nodes, size_t count) {
    while (count > 1) {
        size_t next = 0;
        for (size_t q = QUADS(count / 2); q; q--, next += 4)
            keccak256_x4(nodes + HASH * 2 * next, 2 * HASH, 2 * HASH, nodes + HASH * next);
        for (size_t i = 2 * next; i + 1 < count; i += 2, next++)
            keccak256(nodes + HASH * i, 2 * HASH, nodes + HASH * next);
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
        hash_leaves(buf + first * chunk, (size_t)chunk, n, level);
        fold(level, n);
        memcpy(out + HASH * seg, level, HASH);
    }
    Py_END_ALLOW_THREADS PyMem_RawFree(level);
    PyBuffer_Release(&data);
    return result;
}

/* Base64 digit values; 0x80 marks a byte that is not one. */
static uint8_t B64[256];

static void b64_init(void) {
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(B64, 0x80, sizeof B64);
    for (int i = 0; i < 64; i++) B64[(uint8_t)digits[i]] = (uint8_t)i;
}

/* Bytes the standard base64 `in` decodes to (its length a multiple of 4, '=' only as the last one or two
 * characters); -1 if its length or padding is not that. */
static Py_ssize_t b64_size(const uint8_t *in, size_t len) {
    if (len % 4) return -1;
    size_t pad = len && in[len - 1] == '=' ? 1 + (in[len - 2] == '=') : 0;
    return (Py_ssize_t)(len / 4 * 3 - pad);
}

/* The `size` bytes (b64_size) of base64 `in` into `out`; 0 if a digit is not base64. Bits past the data in
 * the last digit are ignored (as binascii does). */
static int b64_decode(const uint8_t *in, uint8_t *out, size_t size) {
    size_t whole = size / 3; /* quads that make 3 bytes each */
    uint8_t bad = 0;
    for (size_t q = 0; q < whole; q++, in += 4, out += 3) {
        uint8_t a = B64[in[0]], b = B64[in[1]], c = B64[in[2]], d = B64[in[3]];
        bad |= a | b | c | d;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
        out[0] = (uint8_t)(v >> 16);
        out[1] = (uint8_t)(v >> 8);
        out[2] = (uint8_t)v;
    }
    size_t rest = size - whole * 3; /* 1 or 2 bytes in a padded last quad */
    if (rest) {
        uint8_t a = B64[in[0]], b = B64[in[1]], c = rest == 2 ? B64[in[2]] : 0;
        bad |= a | b | c;
        out[0] = (uint8_t)(a << 2 | b >> 4);
        if (rest == 2) out[1] = (uint8_t)(b << 4 | c >> 2);
    }
    return !(bad & 0x80);
}

/* decode_segment(text, chunk_size, chunks, padded_chunks) -> (data, root): `text` is the base64 of exactly `chunks`
 * chunks; root is that of those chunks followed by zero chunks up to `padded_chunks`. Decoding and hashing run
 * without the GIL and without a copy between them (the hot path of a verified download). */
static PyObject *py_decode_segment(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t chunk, chunks, padded;
    if (!PyArg_ParseTuple(args, "Unnn", &text, &chunk, &chunks, &padded)) return NULL;
    if (chunk <= 0 || chunks <= 0 || padded < chunks) {
        PyErr_SetString(PyExc_ValueError, "need chunk_size > 0 and 0 < chunks <= padded_chunks");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text)) {
        PyErr_SetString(PyExc_ValueError, "data is not base64");
        return NULL;
    }
    const uint8_t *in = PyUnicode_DATA(text); /* immutable, and referenced by our caller while we run */
    Py_ssize_t decoded = b64_size(in, (size_t)PyUnicode_GET_LENGTH(text));
    size_t size = (size_t)chunk * (size_t)chunks;
    if (decoded < 0) {
        PyErr_SetString(PyExc_ValueError, "data is not base64");
        return NULL;
    }
    if ((size_t)decoded != size) {
        PyErr_Format(PyExc_ValueError, "%zd bytes, expected %zu", decoded, size);
        return NULL;
    }
    PyObject *data = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
    uint8_t *level = PyMem_RawMalloc((size_t)padded * HASH);
    if (!data || !level) {
        Py_XDECREF(data);
        PyMem_RawFree(level);
        return PyErr_NoMemory();
    }
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(data);
    int ok;
    Py_BEGIN_ALLOW_THREADS ok = b64_decode(in, out, size);
    if (ok) {
        hash_leaves(out, (size_t)chunk, (size_t)chunks, level);
        if (padded > chunks) { /* every padding leaf is the hash of a zero chunk */
            uint8_t *zero = calloc(1, (size_t)chunk);
            if (zero) {
                keccak256(zero, (size_t)chunk, level + HASH * chunks);
                free(zero);
                for (size_t i = (size_t)chunks + 1; i < (size_t)padded; i++)
                    memcpy(level + HASH * i, level + HASH * chunks, HASH);
            } else {
                ok = -1;
            }
        }
        if (ok > 0) fold(level, (size_t)padded);
    }
    Py_END_ALLOW_THREADS if (ok <= 0) {
        PyMem_RawFree(level);
        Py_DECREF(data);
        if (ok < 0) return PyErr_NoMemory();
        PyErr_SetString(PyExc_ValueError, "data is not base64");
        return NULL;
    }
    PyObject *result = Py_BuildValue("(Ny#)", data, (const char *)level, (Py_ssize_t)HASH);
    PyMem_RawFree(level);
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
    {"decode_segment", py_decode_segment, METH_VARARGS,
     "decode_segment(text, chunk_size, chunks, padded_chunks) -> (data, root), GIL released"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_merkle", "Keccak-256 merkle trees in C.", -1, methods};

PyMODINIT_FUNC PyInit__merkle(void) {
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
    __builtin_cpu_init();
    wide = __builtin_cpu_supports("avx2");
#endif
    b64_init();
    return PyModule_Create(&module);
}
