// Host program that decodes whole rows with the GPU block decoders of quant.cuh, so a test can compare them with
// the Java dequantizer without a GPU.
//   decode_check TYPE ROWS COLS IN OUT   (TYPE: q4_0 q8_0 q4_k q6_k f16; IN: raw rows; OUT: F32 values)
#include "../../main/cuda/quant.cuh"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

template <class Q>
static void decode_rows(const uint8_t* data, int rows, int cols, float* out) {
    size_t rb = row_bytes<Q>(cols);
    for (int r = 0; r < rows; r++) {
        for (int pi = 0; pi < cols / 8; pi++) {
            decode_part<Q>(data + r * rb, pi, out + (size_t) r * cols);
        }
    }
}

int main(int argc, char** argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: decode_check TYPE ROWS COLS IN OUT\n");
        return 2;
    }
    const char* type = argv[1];
    int rows = atoi(argv[2]);
    int cols = atoi(argv[3]);
    FILE* in = fopen(argv[4], "rb");
    if (!in) {
        perror(argv[4]);
        return 1;
    }
    std::vector<uint8_t> data;
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) data.insert(data.end(), buf, buf + n);
    fclose(in);
    std::vector<float> out((size_t) rows * cols);
    if (!strcmp(type, "q4_0")) decode_rows<Q4_0>(data.data(), rows, cols, out.data());
    else if (!strcmp(type, "q8_0")) decode_rows<Q8_0>(data.data(), rows, cols, out.data());
    else if (!strcmp(type, "q4_k")) decode_rows<Q4_K>(data.data(), rows, cols, out.data());
    else if (!strcmp(type, "q6_k")) decode_rows<Q6_K>(data.data(), rows, cols, out.data());
    else if (!strcmp(type, "f16")) decode_rows<F16>(data.data(), rows, cols, out.data());
    else {
        fprintf(stderr, "unknown type %s\n", type);
        return 2;
    }
    FILE* o = fopen(argv[5], "wb");
    if (!o || fwrite(out.data(), sizeof(float), out.size(), o) != out.size()) {
        perror(argv[5]);
        return 1;
    }
    fclose(o);
    return 0;
}
