#include "sbench/eval/masks.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include "sbench/core/error.hpp"

namespace sbench::eval {

namespace fs = std::filesystem;

namespace {

// 16384 x 16384: far above any task's mask, and small enough that a lying header cannot make the
// decoder allocate gigabytes.
constexpr std::uint64_t kMaxPixels = std::uint64_t{1} << 28;

std::vector<std::uint8_t> slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail<IoError>("{}: cannot open the mask", path.string());
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// zlib-inflates `in` into exactly `size` bytes; false when the stream is corrupt or short.
bool inflate_exact(const std::uint8_t* in, std::size_t n, std::vector<std::uint8_t>& out, std::size_t size) {
  out.assign(size, 0);
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return false;
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(n);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(size);
  int rc = Z_OK;
  while (rc == Z_OK && z.avail_out > 0) rc = inflate(&z, Z_NO_FLUSH);
  const bool ok = z.avail_out == 0 && (rc == Z_OK || rc == Z_STREAM_END);
  inflateEnd(&z);
  return ok;
}

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

}  // namespace

MaskImage read_png_mask(const fs::path& path, bool header_only) {
  const std::string where = path.string();
  const auto f = slurp(path);
  static const std::uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  if (f.size() < 8 || std::memcmp(f.data(), sig, 8) != 0) fail<InputError>("{}: not a PNG file", where);
  int width = 0, height = 0, depth = 0, color = 0;
  bool have_header = false, have_end = false;
  std::vector<std::uint8_t> idat;
  for (std::size_t at = 8; at < f.size();) {
    if (at + 12 > f.size()) fail<InputError>("{}: truncated PNG (a chunk is cut at byte {})", where, at);
    const std::uint32_t len = be32(&f[at]);
    if (len > f.size() - at - 12) fail<InputError>("{}: truncated PNG (a chunk is cut at byte {})", where, at);
    const std::string type(reinterpret_cast<const char*>(&f[at + 4]), 4);
    const std::uint8_t* data = &f[at + 8];
    const auto crc = static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), &f[at + 4], len + 4));
    if (crc != be32(data + len)) fail<InputError>("{}: corrupt PNG (chunk {} fails its CRC)", where, type);
    if (type == "IHDR") {
      if (len < 13) fail<InputError>("{}: corrupt PNG header", where);
      width = static_cast<int>(be32(data));
      height = static_cast<int>(be32(data + 4));
      depth = data[8];
      color = data[9];
      if (data[12] != 0) fail<InputError>("{}: interlaced PNG: write the mask without interlacing", where);
      have_header = true;
    } else if (type == "IDAT") {
      idat.insert(idat.end(), data, data + len);
    } else if (type == "IEND") {
      have_end = true;
      break;
    }
    at += 12 + len;
  }
  if (!have_header || !have_end) fail<InputError>("{}: truncated PNG (no {})", where, have_header ? "IEND" : "IHDR");
  int channels = 0;
  switch (color) {
    case 0: channels = 1; break;  // grey
    case 3: channels = 1; break;  // palette: the index is the class
    case 4: channels = 2; break;  // grey + alpha: the grey value
    default:
      fail<InputError>("{}: a mask has one band; this PNG is {} (write a greyscale or palette PNG)", where,
                       color == 2   ? "RGB"
                       : color == 6 ? "RGBA"
                                    : "of an unknown colour type");
  }
  if (width <= 0 || height <= 0 ||
      static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height) > kMaxPixels) {
    fail<InputError>("{}: PNG of {} x {} pixels (a mask has at most {} pixels)", where, width, height, kMaxPixels);
  }
  // The bit depths the PNG standard allows for each colour type.
  const bool depth_ok = (color == 0 && (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) ||
                        (color == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
                        (color == 4 && (depth == 8 || depth == 16));
  if (!depth_ok) fail<InputError>("{}: corrupt PNG (bit depth {} for colour type {})", where, depth, color);
  if (header_only) {
    MaskImage m;
    m.width = width;
    m.height = height;
    return m;
  }
  const std::size_t bits = static_cast<std::size_t>(depth) * static_cast<std::size_t>(channels);
  const std::size_t stride = (static_cast<std::size_t>(width) * bits + 7) / 8;
  const std::size_t bpp = std::max<std::size_t>(1, bits / 8);
  std::vector<std::uint8_t> raw;
  if (!inflate_exact(idat.data(), idat.size(), raw, static_cast<std::size_t>(height) * (stride + 1))) {
    fail<InputError>("{}: corrupt or truncated PNG image data", where);
  }
  MaskImage m;
  m.width = width;
  m.height = height;
  m.values.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
  std::vector<std::uint8_t> prev(stride, 0), cur(stride);
  for (int y = 0; y < height; ++y) {
    const std::uint8_t* row = &raw[static_cast<std::size_t>(y) * (stride + 1)];
    const int filter = row[0];
    for (std::size_t i = 0; i < stride; ++i) {
      const int x = row[1 + i], a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      int v = 0;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + (a + b) / 2; break;
        case 4: v = x + paeth(a, b, c); break;
        default: fail<InputError>("{}: corrupt PNG (row {} has filter {})", where, y, filter);
      }
      cur[i] = static_cast<std::uint8_t>(v & 0xff);
    }
    for (int x = 0; x < width; ++x) {
      unsigned v = 0;
      const std::size_t bit = static_cast<std::size_t>(x) * bits;
      if (depth < 8) {
        const unsigned byte = cur[bit / 8];
        v = (byte >> (8 - depth - static_cast<int>(bit % 8))) & ((1u << depth) - 1);
      } else if (depth == 8) {
        v = cur[bit / 8];
      } else {
        v = (unsigned{cur[bit / 8]} << 8) | cur[bit / 8 + 1];
      }
      m.values[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)] =
          static_cast<float>(v);
    }
    std::swap(prev, cur);
  }
  return m;
}

namespace {

struct TiffReader {
  const std::vector<std::uint8_t>& f;
  bool little = true;
  std::string where;

  std::uint64_t get(std::size_t at, int bytes) const {
    if (at + static_cast<std::size_t>(bytes) > f.size()) fail<InputError>("{}: truncated TIFF", where);
    std::uint64_t v = 0;
    for (int k = 0; k < bytes; ++k) {
      const std::uint64_t b = f[at + static_cast<std::size_t>(k)];
      v |= little ? b << (8 * k) : b << (8 * (bytes - 1 - k));
    }
    return v;
  }
  // The values of a SHORT or LONG tag.
  std::vector<std::uint64_t> values(std::size_t entry) const {
    const auto type = get(entry + 2, 2);
    const auto count = get(entry + 4, 4);
    const int size = type == 3 ? 2 : type == 4 ? 4 : 0;  // SHORT, LONG (LONG8 is BigTIFF's)
    if (size == 0 || count == 0 || count > f.size()) {
      fail<InputError>("{}: corrupt TIFF (tag {} of type {} with {} values)", where, get(entry, 2), type, count);
    }
    const std::size_t at = count * static_cast<std::uint64_t>(size) <= 4 ? entry + 8 : get(entry + 8, 4);
    std::vector<std::uint64_t> v(count);
    for (std::size_t k = 0; k < count; ++k) v[k] = get(at + k * static_cast<std::size_t>(size), size);
    return v;
  }
};

// TIFF LZW (MSB first, early change).
bool lzw_decode(const std::uint8_t* in, std::size_t n, std::vector<std::uint8_t>& out, std::size_t want) {
  std::vector<std::vector<std::uint8_t>> table;
  auto reset = [&] {
    table.assign(258, {});
    for (int k = 0; k < 256; ++k) table[static_cast<std::size_t>(k)] = {static_cast<std::uint8_t>(k)};
  };
  reset();
  std::size_t bitpos = 0;
  int width = 9;
  int prev = -1;
  out.clear();
  while (out.size() < want) {
    if ((bitpos + static_cast<std::size_t>(width)) > n * 8) return false;
    int code = 0;
    for (int k = 0; k < width; ++k, ++bitpos) code = (code << 1) | ((in[bitpos / 8] >> (7 - bitpos % 8)) & 1);
    if (code == 256) {
      reset();
      width = 9;
      prev = -1;
      continue;
    }
    if (code == 257) break;
    std::vector<std::uint8_t> entry;
    if (code < static_cast<int>(table.size())) {
      entry = table[static_cast<std::size_t>(code)];
      if (prev >= 0 && table.size() < 4096) {
        auto add = table[static_cast<std::size_t>(prev)];
        add.push_back(entry.front());
        table.push_back(std::move(add));
      }
    } else if (code == static_cast<int>(table.size()) && prev >= 0 && table.size() < 4096) {
      entry = table[static_cast<std::size_t>(prev)];
      entry.push_back(entry.front());
      table.push_back(entry);
    } else {
      return false;
    }
    out.insert(out.end(), entry.begin(), entry.end());
    prev = code;
    if (table.size() + 1 >= (std::size_t{1} << width) && width < 12) ++width;
  }
  if (out.size() < want) return false;
  out.resize(want);
  return true;
}

bool packbits_decode(const std::uint8_t* in, std::size_t n, std::vector<std::uint8_t>& out, std::size_t want) {
  out.clear();
  for (std::size_t at = 0; at < n && out.size() < want;) {
    const auto h = static_cast<std::int8_t>(in[at++]);
    if (h >= 0) {
      const std::size_t len = static_cast<std::size_t>(h) + 1;
      if (at + len > n) return false;
      out.insert(out.end(), in + at, in + at + len);
      at += len;
    } else if (h != -128) {
      if (at >= n) return false;
      out.insert(out.end(), static_cast<std::size_t>(1 - h), in[at++]);
    }
  }
  if (out.size() < want) return false;
  out.resize(want);
  return true;
}

}  // namespace

MaskImage read_tiff_mask(const fs::path& path, bool header_only) {
  const std::string where = path.string();
  const auto f = slurp(path);
  if (f.size() < 8) fail<InputError>("{}: not a TIFF file", where);
  TiffReader t{f, true, where};
  if (f[0] == 'I' && f[1] == 'I') {
    t.little = true;
  } else if (f[0] == 'M' && f[1] == 'M') {
    t.little = false;
  } else {
    fail<InputError>("{}: not a TIFF file", where);
  }
  const auto magic = t.get(2, 2);
  if (magic == 43) fail<InputError>("{}: BigTIFF masks are not read: write a classic TIFF or a PNG", where);
  if (magic != 42) fail<InputError>("{}: not a TIFF file", where);
  const std::size_t ifd = t.get(4, 4);
  const auto entries = t.get(ifd, 2);
  std::map<std::uint64_t, std::vector<std::uint64_t>> tags;
  for (std::size_t k = 0; k < entries; ++k) {
    const std::size_t e = ifd + 2 + 12 * k;
    const auto tag = t.get(e, 2);
    if (tag == 256 || tag == 257 || tag == 258 || tag == 259 || tag == 273 || tag == 277 || tag == 278 || tag == 279 ||
        tag == 317 || tag == 339 || tag == 322) {
      tags[tag] = t.values(e);
    }
  }
  auto one = [&](std::uint64_t tag, std::uint64_t def) { return tags.count(tag) ? tags[tag].at(0) : def; };
  if (tags.count(322)) fail<InputError>("{}: tiled TIFF masks are not read: write strips (or a PNG)", where);
  const auto width = one(256, 0), height = one(257, 0), bits = one(258, 1), compression = one(259, 1);
  const auto spp = one(277, 1), predictor = one(317, 1), format = one(339, 1);
  if (spp != 1) fail<InputError>("{}: a mask has one band; this TIFF has {}", where, spp);
  if (width == 0 || height == 0 || width > kMaxPixels || height > kMaxPixels || width * height > kMaxPixels ||
      !tags.count(273) || !tags.count(279)) {
    fail<InputError>("{}: TIFF without a readable image ({} x {} pixels)", where, width, height);
  }
  if (!(bits == 8 || bits == 16 || bits == 32 || bits == 64) || (format == 3 && bits < 32) || format > 3) {
    fail<InputError>("{}: TIFF samples of {} bits, format {}: write 8-64 bit integers or 32/64 bit floats", where, bits,
                     format);
  }
  if (predictor != 1 && !(predictor == 2 && format != 3)) {
    fail<InputError>("{}: TIFF predictor {} is not read (use none or horizontal differencing on integers)", where,
                     predictor);
  }
  if (header_only) {
    MaskImage m;
    m.width = static_cast<int>(width);
    m.height = static_cast<int>(height);
    return m;
  }
  const std::size_t bytes = bits / 8;
  const std::size_t rps = one(278, height);
  const auto& offsets = tags[273];
  const auto& counts = tags[279];
  if (offsets.size() != counts.size()) fail<InputError>("{}: corrupt TIFF (strip tables differ)", where);
  std::vector<std::uint8_t> img;
  img.reserve(width * height * bytes);
  for (std::size_t s = 0; s < offsets.size() && img.size() < width * height * bytes; ++s) {
    const std::size_t rows = std::min<std::size_t>(rps, height - s * rps);
    const std::size_t want = rows * width * bytes;
    if (offsets[s] > f.size() || counts[s] > f.size() - offsets[s]) {
      fail<InputError>("{}: truncated TIFF (strip {} is cut)", where, s);
    }
    const std::uint8_t* in = f.data() + offsets[s];
    std::vector<std::uint8_t> strip;
    bool ok = true;
    switch (compression) {
      case 1:
        ok = counts[s] >= want;
        strip.assign(in, in + std::min<std::size_t>(counts[s], want));
        break;
      case 5: ok = lzw_decode(in, counts[s], strip, want); break;
      case 8:
      case 32946: ok = inflate_exact(in, counts[s], strip, want); break;
      case 32773: ok = packbits_decode(in, counts[s], strip, want); break;
      default:
        fail<InputError>("{}: TIFF compression {} is not read (use none, LZW, deflate or PackBits)", where,
                         compression);
    }
    if (!ok) fail<InputError>("{}: corrupt or truncated TIFF (strip {} does not decode)", where, s);
    if (predictor == 2) {
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t x = 1; x < width; ++x) {
          const std::size_t a = (r * width + x) * bytes, b = a - bytes;
          std::uint64_t va = 0, vb = 0;
          for (std::size_t k = 0; k < bytes; ++k) {
            const std::size_t sh = t.little ? 8 * k : 8 * (bytes - 1 - k);
            va |= std::uint64_t{strip[a + k]} << sh;
            vb |= std::uint64_t{strip[b + k]} << sh;
          }
          const std::uint64_t v = va + vb;
          for (std::size_t k = 0; k < bytes; ++k) {
            const std::size_t sh = t.little ? 8 * k : 8 * (bytes - 1 - k);
            strip[a + k] = static_cast<std::uint8_t>((v >> sh) & 0xff);
          }
        }
      }
    }
    img.insert(img.end(), strip.begin(), strip.end());
  }
  if (img.size() < width * height * bytes) fail<InputError>("{}: truncated TIFF (too few strips)", where);
  MaskImage m;
  m.width = static_cast<int>(width);
  m.height = static_cast<int>(height);
  m.values.resize(width * height);
  for (std::size_t p = 0; p < width * height; ++p) {
    std::uint64_t u = 0;
    for (std::size_t k = 0; k < bytes; ++k) {
      u |= std::uint64_t{img[p * bytes + k]} << (t.little ? 8 * k : 8 * (bytes - 1 - k));
    }
    double v = 0;
    if (format == 3) {
      if (bytes == 4) {
        float x;
        const auto u32 = static_cast<std::uint32_t>(u);
        std::memcpy(&x, &u32, 4);
        v = x;
      } else {
        std::memcpy(&v, &u, 8);
      }
    } else if (format == 2) {
      const int shift = static_cast<int>(64 - 8 * bytes);
      v = static_cast<double>(static_cast<std::int64_t>(u << shift) >> shift);
    } else {
      v = static_cast<double>(u);
    }
    m.values[p] = static_cast<float>(v);
  }
  return m;
}

MaskImage read_mask(const fs::path& path, bool header_only) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".png") return read_png_mask(path, header_only);
  if (ext == ".tif" || ext == ".tiff") return read_tiff_mask(path, header_only);
  fail<InputError>("{}: masks are .png, .tif or .tiff files", path.string());
}

}  // namespace sbench::eval
