// Runs one kernel of runtime/src/main/cuda in the host emulator, with the launch shapes CudaKernels uses, on
// inputs read from a folder; a Java test compares the outputs with the CPU kernels.
//   kernel_emulation MODE DIR ARGS...   (see main for each mode's arguments and files)
#include "emulator.h"

#include "../../main/cuda/kernels.cu"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

static std::string dir;

template <class T>
static std::vector<T> load(const char* name) {
    std::string path = dir + "/" + name;
    FILE* f = fopen(path.c_str(), "rb");
    if (!f) {
        perror(path.c_str());
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    std::vector<T> v(bytes / sizeof(T));
    if (fread(v.data(), 1, bytes, f) != (size_t) bytes) exit(1);
    fclose(f);
    return v;
}

template <class T>
static void save(const char* name, const std::vector<T>& v) {
    std::string path = dir + "/" + name;
    FILE* f = fopen(path.c_str(), "wb");
    if (!f || fwrite(v.data(), sizeof(T), v.size(), f) != v.size()) {
        perror(path.c_str());
        exit(1);
    }
    fclose(f);
}

static unsigned ceil_div(unsigned a, unsigned b) {
    return (a + b - 1) / b;
}

static unsigned row_threads(int n) {
    return std::min(256u, ceil_div(n, 32) * 32);
}

#define MATMUL_CASE(NAME)                                                                                         \
    if (type == #NAME) {                                                                                          \
        if (n == 1) {                                                                                             \
            std::vector<float> y1(y.size());                                                                      \
            emu_launch(ceil_div(rows, 4), 1, 128, 0, [&] { matvec_##NAME(w.data(), x.data(), y1.data(), rows, cols); }); \
            emu_launch(ceil_div(rows, 8), 1, 128, 0, [&] { matvec2_##NAME(w.data(), x.data(), y.data(), rows, cols); }); \
            if (y1 != y) {                                                                                        \
                fprintf(stderr, "matvec_" #NAME " and matvec2_" #NAME " differ\n");                              \
                return 1;                                                                                         \
            }                                                                                                     \
        } else {                                                                                                  \
            emu_launch(ceil_div(rows, 64), ceil_div(n, 64), 256, 0,                                               \
                       [&] { matmul_##NAME(w.data(), x.data(), y.data(), rows, cols, n); });                      \
            if (n <= 8) { /* matvecn: each token's row as its lone matvec gives it */                             \
                std::vector<float> yn(y.size()), y1(y.size());                                                    \
                emu_launch(ceil_div(rows, 4), 1, 128, 0,                                                          \
                           [&] { matvecn_##NAME(w.data(), x.data(), yn.data(), rows, cols, n); });                \
                for (int t = 0; t < n; t++)                                                                       \
                    emu_launch(ceil_div(rows, 4), 1, 128, 0, [&] {                                                \
                        matvec_##NAME(w.data(), x.data() + (size_t) t * cols, y1.data() + (size_t) t * rows, rows, cols); \
                    });                                                                                           \
                if (yn != y1) {                                                                                   \
                    fprintf(stderr, "matvecn_" #NAME " differs from matvec_" #NAME " per token\n");               \
                    return 1;                                                                                     \
                }                                                                                                 \
            }                                                                                                     \
        }                                                                                                         \
    }

#define GET_ROWS_CASE(NAME) \
    if (type == #NAME) emu_launch(n, 1, 128, 0, [&] { get_rows_##NAME(w.data(), ids.data(), out.data(), cols); });

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: kernel_emulation MODE DIR ARGS...\n");
        return 2;
    }
    std::string mode = argv[1];
    dir = argv[2];
    char** a = argv + 3;
    if (mode == "matmul") { // TYPE ROWS COLS N: w.bin x.bin -> y.bin
        std::string type = a[0];
        int rows = atoi(a[1]), cols = atoi(a[2]), n = atoi(a[3]);
        auto w = load<uint8_t>("w.bin");
        auto x = load<float>("x.bin");
        std::vector<float> y((size_t) n * rows);
        MATMUL_CASE(q4_0) MATMUL_CASE(q8_0) MATMUL_CASE(q4_k) MATMUL_CASE(q6_k) MATMUL_CASE(f16)
        save("y.bin", y);
    } else if (mode == "get_rows") { // TYPE COLS N: w.bin ids.bin -> out.bin
        std::string type = a[0];
        int cols = atoi(a[1]), n = atoi(a[2]);
        auto w = load<uint8_t>("w.bin");
        auto ids = load<int>("ids.bin");
        std::vector<float> out((size_t) n * cols);
        GET_ROWS_CASE(q4_0) GET_ROWS_CASE(q8_0) GET_ROWS_CASE(q4_k) GET_ROWS_CASE(q6_k) GET_ROWS_CASE(f16)
        save("out.bin", out);
    } else if (mode == "rmsnorm") { // ROWS N EPS: x.bin w.bin -> out.bin
        int rows = atoi(a[0]), n = atoi(a[1]);
        float eps = strtof(a[2], nullptr);
        auto x = load<float>("x.bin");
        auto w = load<float>("w.bin");
        std::vector<float> out(x.size());
        emu_launch(rows, 1, row_threads(n), 0, [&] { rmsnorm(out.data(), x.data(), w.data(), n, eps); });
        save("out.bin", out);
    } else if (mode == "softmax") { // ROWS N: x.bin -> out.bin
        int rows = atoi(a[0]), n = atoi(a[1]);
        auto x = load<float>("x.bin");
        emu_launch(rows, 1, row_threads(n), 0, [&] { softmax(x.data(), n); });
        save("out.bin", x);
    } else if (mode == "rope") { // N HEADS HEAD_DIM N_ROT POS0 NEOX: x.bin cos.bin sin.bin -> out.bin
        int n = atoi(a[0]), heads = atoi(a[1]), hd = atoi(a[2]), nRot = atoi(a[3]), pos0 = atoi(a[4]), neox = atoi(a[5]);
        auto x = load<float>("x.bin");
        auto c = load<float>("cos.bin");
        auto s = load<float>("sin.bin");
        emu_launch(ceil_div(n * heads * (nRot / 2), 256), 1, 256, 0,
                   [&] { rope(x.data(), c.data(), s.data(), n, heads, hd, nRot, &pos0, neox); });
        save("out.bin", x);
    } else if (mode == "elementwise") { // N WIDTH: g.bin u.bin b.bin -> glu/geglu/sum/bias/scaled/capped.bin
        int n = atoi(a[0]), width = atoi(a[1]);
        auto g = load<float>("g.bin");
        auto u = load<float>("u.bin");
        auto b = load<float>("b.bin");
        auto sum = g;
        auto biased = g;
        auto gg = g;
        auto scaled = g;
        auto capped = g;
        emu_launch(ceil_div(n, 256), 1, 256, 0, [&] { geglu(gg.data(), u.data(), n); });
        emu_launch(ceil_div(n, 256), 1, 256, 0, [&] { scale(scaled.data(), 1.5f, n); });
        emu_launch(ceil_div(n, 256), 1, 256, 0, [&] { softcap(capped.data(), 2.0f, n); });
        save("geglu.bin", gg);
        save("scaled.bin", scaled);
        save("capped.bin", capped);
        emu_launch(ceil_div(n, 256), 1, 256, 0, [&] { swiglu(g.data(), u.data(), n); });
        emu_launch(ceil_div(n, 256), 1, 256, 0, [&] { add(sum.data(), u.data(), n); });
        emu_launch(ceil_div(n, 256), 1, 256, 0, [&] { add_bias(biased.data(), b.data(), width, n); });
        save("glu.bin", g);
        save("sum.bin", sum);
        save("bias.bin", biased);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode.c_str());
        return 2;
    }
    return 0;
}
