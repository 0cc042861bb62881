#ifndef BACKGROUNDJOBS_CVIPS_SHIM_H
#define BACKGROUNDJOBS_CVIPS_SHIM_H

#include <vips/vips.h>

// libvips's operations take their optional arguments as NULL-terminated varargs, which Swift cannot
// call; these wrappers give each use the library makes a fixed signature.

static inline VipsImage *bj_vips_load(const char *path) {
    return vips_image_new_from_file(path, NULL);
}

static inline int bj_vips_thumbnail(const char *path, VipsImage **out, int width, int height, int crop) {
    return vips_thumbnail(path, out, width, "height", height, "crop",
                          crop ? VIPS_INTERESTING_CENTRE : VIPS_INTERESTING_NONE, NULL);
}

static inline int bj_vips_resize(VipsImage *in, VipsImage **out, double hscale, double vscale) {
    return vips_resize(in, out, hscale, "vscale", vscale, NULL);
}

static inline int bj_vips_jpegsave(VipsImage *in, const char *path, int quality, int strip) {
    return vips_jpegsave(in, path, "Q", quality, "strip", strip, "optimize_coding", TRUE, NULL);
}

static inline int bj_vips_pngsave(VipsImage *in, const char *path, int compression, int strip) {
    return vips_pngsave(in, path, "compression", compression, "strip", strip, NULL);
}

static inline int bj_vips_webpsave(VipsImage *in, const char *path, int quality, int strip) {
    return vips_webpsave(in, path, "Q", quality, "strip", strip, NULL);
}

static inline int bj_vips_flatten(VipsImage *in, VipsImage **out) {
    return vips_flatten(in, out, NULL);
}

static inline int bj_vips_write(VipsImage *in, const char *path) {
    return vips_image_write_to_file(in, path, NULL);
}

static inline void bj_vips_unref(VipsImage *image) {
    g_object_unref(image);
}

#endif
