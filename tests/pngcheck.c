/*
 * pngcheck - where a PNG's coloured pixels are, for tests/waterfall:
 * headless Chromium renders the waterfall to a PNG and this says whether
 * the picture shows what the SVG's records say it should.
 *
 *   pngcheck FILE.png
 *       prints "WIDTH HEIGHT NONWHITE COLOURED": the image's size, the
 *       pixels that are not white, the pixels that are coloured
 *   pngcheck FILE.png boxes < BOXES
 *       for each line "X0 Y0 X1 Y1" of stdin (pixels, the box [X0, X1) x
 *       [Y0, Y1), rounded inwards to whole pixels), prints the coloured
 *       pixels in it, one number a line
 *
 * "Coloured": saturated, max(R, G, B) - min(R, G, B) >= COLOURED_MIN.
 * The waterfall's handshakes and bars are (orange, purple, cyan, green,
 * blue, red); its text, grid, lane backgrounds and the queued grey are
 * not. A transparent pixel counts as drawn over white.
 *
 * The PNG subset read: 8 bits per sample, RGB or RGBA, not interlaced
 * (what Chromium writes); anything else is refused with a message. The
 * image data is inflated with zlib and each scanline unfiltered (PNG
 * spec, sec. 9: None, Sub, Up, Average, Paeth). Chunk CRCs are not
 * checked: the file comes from Chromium, not from an adversary.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define COLOURED_MIN 48

struct image {
    uint32_t w, h;
    unsigned bpp;      /* bytes per pixel: 3 or 4 */
    unsigned char *px; /* h rows of w * bpp bytes, unfiltered */
};

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static unsigned char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static int
paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Undo each scanline's filter in place; raw holds h lines of 1 + stride
   bytes (the filter type first). Returns 0 or -1. */
static int
unfilter(struct image *im, const unsigned char *raw)
{
    size_t stride = (size_t)im->w * im->bpp, x;
    uint32_t y;

    for (y = 0; y < im->h; y++) {
        const unsigned char *in = raw + y * (stride + 1) + 1;
        unsigned char *out = im->px + y * stride;
        const unsigned char *up = y ? out - stride : NULL;
        unsigned type = in[-1];

        for (x = 0; x < stride; x++) {
            int a = x >= im->bpp ? out[x - im->bpp] : 0;
            int b = up ? up[x] : 0;
            int c = up && x >= im->bpp ? up[x - im->bpp] : 0;
            int pred = type == 0   ? 0
                       : type == 1 ? a
                       : type == 2 ? b
                       : type == 3 ? (a + b) / 2
                       : type == 4 ? paeth(a, b, c)
                                   : -1;

            if (pred < 0)
                return -1;
            out[x] = (unsigned char)(in[x] + pred);
        }
    }
    return 0;
}

/* The image in path, or a message on stderr and -1. */
static int
load(const char *path, struct image *im)
{
    static const unsigned char sig[8] = {0x89, 'P',  'N',  'G',
                                         '\r', '\n', 0x1a, '\n'};
    size_t len = 0, off = 8, idat_len = 0;
    unsigned char *file = read_file(path, &len), *idat = NULL, *raw = NULL;
    uLongf raw_len;
    int rc = -1;

    memset(im, 0, sizeof *im);
    if (!file || len < 33 || memcmp(file, sig, 8) != 0) {
        fprintf(stderr, "pngcheck: %s: not a PNG file\n", path);
        goto out;
    }
    while (off + 12 <= len) {
        uint32_t n = be32(file + off);
        const unsigned char *type = file + off + 4, *data = file + off + 8;

        if (n > len - off - 12)
            break;
        if (memcmp(type, "IHDR", 4) == 0 && n >= 13) {
            im->w = be32(data);
            im->h = be32(data + 4);
            if (data[8] != 8 || (data[9] != 2 && data[9] != 6) || data[12]) {
                fprintf(stderr,
                        "pngcheck: %s: not 8-bit RGB(A), non-interlaced\n",
                        path);
                goto out;
            }
            im->bpp = data[9] == 6 ? 4 : 3;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            unsigned char *more = realloc(idat, idat_len + n + 1);

            if (!more)
                goto out;
            idat = more;
            memcpy(idat + idat_len, data, n);
            idat_len += n;
        } else if (memcmp(type, "IEND", 4) == 0) {
            break;
        }
        off += 12 + (size_t)n;
    }
    if (!im->bpp || !idat || im->w == 0 || im->h == 0 || im->w > 20000 ||
        im->h > 20000) {
        fprintf(stderr, "pngcheck: %s: no image data\n", path);
        goto out;
    }
    raw_len = (uLongf)im->h * ((uLongf)im->w * im->bpp + 1);
    raw = malloc(raw_len);
    im->px = malloc((size_t)im->h * im->w * im->bpp);
    if (!raw || !im->px ||
        uncompress(raw, &raw_len, idat, (uLong)idat_len) != Z_OK ||
        raw_len != (uLongf)im->h * ((uLongf)im->w * im->bpp + 1) ||
        unfilter(im, raw) < 0) {
        fprintf(stderr, "pngcheck: %s: corrupt image data\n", path);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        free(im->px);
        im->px = NULL;
    }
    free(raw);
    free(idat);
    free(file);
    return rc;
}

/* Pixel (x, y) over white: its colour in rgb[3]. */
static void
pixel(const struct image *im, uint32_t x, uint32_t y, int rgb[3])
{
    const unsigned char *p = im->px + ((size_t)y * im->w + x) * im->bpp;
    int a = im->bpp == 4 ? p[3] : 255, i;

    for (i = 0; i < 3; i++)
        rgb[i] = (p[i] * a + 255 * (255 - a)) / 255;
}

static int
coloured(const int rgb[3])
{
    int hi = rgb[0], lo = rgb[0], i;

    for (i = 1; i < 3; i++) {
        hi = rgb[i] > hi ? rgb[i] : hi;
        lo = rgb[i] < lo ? rgb[i] : lo;
    }
    return hi - lo >= COLOURED_MIN;
}

/* Coloured pixels in [x0, x1) x [y0, y1), clipped to the image. */
static unsigned long
count_box(const struct image *im, double fx0, double fy0, double fx1,
          double fy1)
{
    uint32_t x0 = fx0 <= 0 ? 0 : (uint32_t)(fx0 + 0.999);
    uint32_t y0 = fy0 <= 0 ? 0 : (uint32_t)(fy0 + 0.999);
    uint32_t x1 = fx1 <= 0 ? 0 : fx1 >= im->w ? im->w : (uint32_t)fx1;
    uint32_t y1 = fy1 <= 0 ? 0 : fy1 >= im->h ? im->h : (uint32_t)fy1;
    unsigned long n = 0;
    uint32_t x, y;
    int rgb[3];

    for (y = y0; y < y1; y++)
        for (x = x0; x < x1; x++) {
            pixel(im, x, y, rgb);
            n += coloured(rgb);
        }
    return n;
}

int
main(int argc, char **argv)
{
    struct image im;
    unsigned long nonwhite = 0;
    double x0, y0, x1, y1;
    uint32_t x, y;
    int rgb[3];

    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "boxes"))) {
        fprintf(stderr, "usage: pngcheck FILE.png [boxes < BOXES]\n");
        return 2;
    }
    if (load(argv[1], &im) < 0)
        return 1;
    if (argc == 3) {
        while (scanf("%lf %lf %lf %lf", &x0, &y0, &x1, &y1) == 4)
            printf("%lu\n", count_box(&im, x0, y0, x1, y1));
    } else {
        for (y = 0; y < im.h; y++)
            for (x = 0; x < im.w; x++) {
                pixel(&im, x, y, rgb);
                nonwhite += rgb[0] < 250 || rgb[1] < 250 || rgb[2] < 250;
            }
        printf("%u %u %lu %lu\n", im.w, im.h, nonwhite,
               count_box(&im, 0, 0, im.w, im.h));
    }
    free(im.px);
    return 0;
}
