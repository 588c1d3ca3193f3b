#include "sbench/core/pickle.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <unordered_map>

#include "sbench/core/error.hpp"

namespace sbench {

namespace {

struct Node;
using NodeP = std::shared_ptr<Node>;

// A value of the pickle machine. Objects made by REDUCE only record their callable and
// arguments: nothing is ever called.
struct Node {
  enum class T { none, boolean, integer, real, text, bytes, tuple, list, dict, global, object };
  T t = T::none;
  bool b = false;
  std::int64_t i = 0;
  double d = 0;
  std::string s;  // text, bytes, or "module name" of a global
  std::vector<NodeP> items;
  NodeP callable, args, state;
};

NodeP make(Node::T t) {
  auto n = std::make_shared<Node>();
  n->t = t;
  return n;
}

// The only callables such pickles name. Anything else (os.system, builtins.eval, ...) is refused.
const char* const kAllowedGlobals[] = {
    "numpy.ma.core _mareconstruct",       "numpy.ma.core MaskedArray",    "numpy ndarray", "numpy dtype",
    "numpy.core.multiarray _reconstruct", "numpy.core.multiarray scalar", "_codecs encode"};

class Machine {
 public:
  Machine(const std::byte* data, std::size_t size, const std::string& context)
      : p_(reinterpret_cast<const unsigned char*>(data)), size_(size), context_(context) {}

  NodeP run() {
    for (;;) {
      if (pos_ >= size_) error("truncated: no STOP opcode");
      const std::size_t at = pos_;
      const unsigned char op = p_[pos_++];
      switch (op) {
        case 0x80: take(1); break;  // PROTO
        case '(': marks_.push_back(stack_.size()); break;
        case '.': return pop(at);  // STOP
        case 'N': push(make(Node::T::none)); break;
        case 0x88:
        case 0x89: {
          auto n = make(Node::T::boolean);
          n->b = op == 0x88;
          push(n);
          break;
        }
        case 'K': push_int(take(1)[0]); break;
        case 'M': push_int(le(take(2), 2)); break;
        case 'J': push_int(static_cast<std::int32_t>(static_cast<std::uint32_t>(le(take(4), 4)))); break;
        case 0x8a: {  // LONG1: little-endian two's complement
          const std::size_t n = take(1)[0];
          if (n > 8) error(fmt::format("integer of {} bytes at offset {}", n, at));
          const unsigned char* b = take(n);
          std::uint64_t v = n ? le(b, n) : 0;
          if (n && n < 8 && (b[n - 1] & 0x80)) v |= ~std::uint64_t{0} << (8 * n);
          push_int(static_cast<std::int64_t>(v));
          break;
        }
        case 'I': {  // INT (protocol 0): "I01\n" is True
          const std::string line = read_line();
          if (line == "01" || line == "00") {
            auto n = make(Node::T::boolean);
            n->b = line == "01";
            push(n);
          } else {
            push_int(std::stoll(line));
          }
          break;
        }
        case 'G': {  // BINFLOAT, big-endian
          const unsigned char* b = take(8);
          std::uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | b[k];
          auto n = make(Node::T::real);
          std::memcpy(&n->d, &bits, 8);
          push(n);
          break;
        }
        case 'X': push_string(Node::T::text, le(take(4), 4)); break;   // BINUNICODE
        case 'U': push_string(Node::T::bytes, take(1)[0]); break;      // SHORT_BINSTRING (Python 2 str)
        case 'T': push_string(Node::T::bytes, le(take(4), 4)); break;  // BINSTRING
        case 'C': push_string(Node::T::bytes, take(1)[0]); break;      // SHORT_BINBYTES
        case 'B': push_string(Node::T::bytes, le(take(4), 4)); break;  // BINBYTES
        case 'c': {                                                    // GLOBAL
          const std::string module = read_line();
          const std::string name = read_line();
          const std::string full = module + " " + name;
          bool ok = false;
          for (const char* g : kAllowedGlobals) ok = ok || full == g;
          if (!ok) {
            fail<FormatError>(
                "{}: the pickle refers to '{}.{}' (offset {}); sbench only reads pickled numpy arrays "
                "and never runs code from a pickle",
                context_, module, name, at);
          }
          auto n = make(Node::T::global);
          n->s = full;
          push(n);
          break;
        }
        case 'q': memo_[take(1)[0]] = top(at); break;                                  // BINPUT
        case 'r': memo_[static_cast<std::uint32_t>(le(take(4), 4))] = top(at); break;  // LONG_BINPUT
        case 'p': memo_[static_cast<std::uint32_t>(std::stoul(read_line()))] = top(at); break;
        case 'h': push(memo(take(1)[0], at)); break;
        case 'j': push(memo(static_cast<std::uint32_t>(le(take(4), 4)), at)); break;
        case 'g': push(memo(static_cast<std::uint32_t>(std::stoul(read_line())), at)); break;
        case ')': push(make(Node::T::tuple)); break;
        case 't': push(collect(Node::T::tuple, at)); break;
        case 0x85:
        case 0x86:
        case 0x87: {
          const std::size_t n = op - 0x84u;
          auto t = make(Node::T::tuple);
          if (stack_.size() < n) error(fmt::format("stack underflow at offset {}", at));
          t->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(t);
          break;
        }
        case ']': push(make(Node::T::list)); break;
        case '}': push(make(Node::T::dict)); break;
        case 'a': {  // APPEND
          NodeP v = pop(at);
          top(at)->items.push_back(v);
          break;
        }
        case 'e': {  // APPENDS
          NodeP items = collect(Node::T::list, at);
          auto& list = top(at)->items;
          list.insert(list.end(), items->items.begin(), items->items.end());
          break;
        }
        case 's': {  // SETITEM
          NodeP v = pop(at);
          NodeP k = pop(at);
          top(at)->items.push_back(k);
          top(at)->items.push_back(v);
          break;
        }
        case 'u': {  // SETITEMS
          NodeP items = collect(Node::T::list, at);
          auto& d = top(at)->items;
          d.insert(d.end(), items->items.begin(), items->items.end());
          break;
        }
        case 'R': {  // REDUCE: records callable and arguments
          NodeP args = pop(at);
          NodeP callable = pop(at);
          if (callable->t != Node::T::global || args->t != Node::T::tuple)
            error(fmt::format("bad REDUCE at offset {}", at));
          if (callable->s == "_codecs encode") {
            // Python 3 pickles bytes as _codecs.encode(text, "latin1"): code points 0-255 are the bytes.
            if (args->items.size() != 2 || args->items[0]->t != Node::T::text) error("bad _codecs.encode call");
            push(latin1(args->items[0]->s, at));
          } else {
            auto o = make(Node::T::object);
            o->callable = callable;
            o->args = args;
            push(o);
          }
          break;
        }
        case 'b': {  // BUILD: records the state
          NodeP state = pop(at);
          top(at)->state = state;
          break;
        }
        default:
          fail<FormatError>(
              "{}: unsupported pickle opcode 0x{:02x} ('{}') at offset {}; only pickled numpy arrays "
              "are read",
              context_, op, std::isprint(op) ? static_cast<char>(op) : '?', at);
      }
    }
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail<FormatError>("{}: malformed pickle: {}", context_, what);
  }

  const unsigned char* take(std::size_t n) {
    if (n > size_ - pos_) error(fmt::format("truncated at offset {}", pos_));
    const unsigned char* b = p_ + pos_;
    pos_ += n;
    return b;
  }
  static std::uint64_t le(const unsigned char* b, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t k = n; k-- > 0;) v = (v << 8) | b[k];
    return v;
  }
  std::string read_line() {
    std::string s;
    while (pos_ < size_ && p_[pos_] != '\n') s.push_back(static_cast<char>(p_[pos_++]));
    if (pos_ >= size_) error("truncated line");
    ++pos_;
    return s;
  }
  void push(NodeP n) { stack_.push_back(std::move(n)); }
  void push_int(std::int64_t v) {
    auto n = make(Node::T::integer);
    n->i = v;
    push(n);
  }
  void push_string(Node::T t, std::uint64_t len) {
    auto n = make(t);
    const unsigned char* b = take(static_cast<std::size_t>(len));
    n->s.assign(reinterpret_cast<const char*>(b), static_cast<std::size_t>(len));
    push(n);
  }
  NodeP pop(std::size_t at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      error(fmt::format("stack underflow at offset {}", at));
    NodeP n = stack_.back();
    stack_.pop_back();
    return n;
  }
  NodeP top(std::size_t at) {
    if (stack_.empty()) error(fmt::format("stack underflow at offset {}", at));
    return stack_.back();
  }
  NodeP memo(std::uint32_t key, std::size_t at) {
    auto it = memo_.find(key);
    if (it == memo_.end()) error(fmt::format("memo {} read before it was written (offset {})", key, at));
    return it->second;
  }
  NodeP collect(Node::T t, std::size_t at) {
    if (marks_.empty()) error(fmt::format("no MARK before offset {}", at));
    const std::size_t m = marks_.back();
    marks_.pop_back();
    auto n = make(t);
    n->items.assign(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return n;
  }
  NodeP latin1(const std::string& utf8, std::size_t at) {
    auto n = make(Node::T::bytes);
    for (std::size_t k = 0; k < utf8.size();) {
      const auto c = static_cast<unsigned char>(utf8[k]);
      if (c < 0x80) {
        n->s.push_back(static_cast<char>(c));
        k += 1;
      } else if ((c >> 5) == 0x6 && k + 1 < utf8.size()) {
        const unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(utf8[k + 1]) & 0x3Fu);
        if (cp > 0xFF) error(fmt::format("_codecs.encode of a non-latin1 text at offset {}", at));
        n->s.push_back(static_cast<char>(cp));
        k += 2;
      } else {
        error(fmt::format("_codecs.encode of a non-latin1 text at offset {}", at));
      }
    }
    return n;
  }

  const unsigned char* p_;
  std::size_t size_;
  const std::string& context_;
  std::size_t pos_ = 0;
  std::vector<NodeP> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, NodeP> memo_;
};

// Python 3 pickles dtype codes as text, Python 2 as str (bytes).
bool is_string(const NodeP& n) {
  return n && (n->t == Node::T::text || n->t == Node::T::bytes);
}

std::string dtype_descr(const NodeP& dtype, const std::string& context) {
  if (!dtype || dtype->t != Node::T::object || dtype->callable->s != "numpy dtype" || dtype->args->items.empty() ||
      !is_string(dtype->args->items[0])) {
    fail<FormatError>("{}: pickled array without a numpy dtype", context);
  }
  std::string code = dtype->args->items[0]->s;
  std::string order = "|";
  if (dtype->state && dtype->state->t == Node::T::tuple && dtype->state->items.size() > 1 &&
      is_string(dtype->state->items[1])) {
    order = dtype->state->items[1]->s;
  }
  if (code == "O" || code.rfind("O", 0) == 0) {
    fail<FormatError>("{}: object arrays hold Python objects, which sbench never unpickles", context);
  }
  return (order == "|" ? "" : order) + code;
}

}  // namespace

MaskedArray parse_pickled_array(const std::byte* data, std::size_t size, const std::string& context) {
  Machine machine(data, size, context);
  const NodeP root = machine.run();
  if (root->t != Node::T::object || (root->callable->s != "numpy.ma.core _mareconstruct" &&
                                     root->callable->s != "numpy.core.multiarray _reconstruct")) {
    fail<FormatError>("{}: the pickle does not hold a numpy array or masked array", context);
  }
  const bool masked = root->callable->s == "numpy.ma.core _mareconstruct";
  const NodeP& st = root->state;
  if (!st || st->t != Node::T::tuple || st->items.size() < 5)
    fail<FormatError>("{}: pickled array without its state", context);
  const auto& it = st->items;
  std::vector<std::int64_t> shape;
  if (it[1]->t != Node::T::tuple) fail<FormatError>("{}: pickled array shape is not a tuple", context);
  for (const auto& d : it[1]->items) {
    if (d->t != Node::T::integer || d->i < 0)
      fail<FormatError>("{}: pickled array shape is not made of sizes", context);
    shape.push_back(d->i);
  }
  const std::string descr = dtype_descr(it[2], context);
  const bool fortran = it[3]->t == Node::T::boolean ? it[3]->b : it[3]->i != 0;
  if (it[4]->t != Node::T::bytes) fail<FormatError>("{}: pickled array data is not raw bytes (object array?)", context);
  MaskedArray out;
  out.data = npy_from_raw(descr, shape, fortran, reinterpret_cast<const std::byte*>(it[4]->s.data()), it[4]->s.size(),
                          context);
  if (masked && it.size() >= 6 && it[5]->t == Node::T::bytes) {
    const std::string& m = it[5]->s;
    if (m.size() != out.data.size()) {
      fail<FormatError>("{}: mask has {} bytes for {} elements", context, m.size(), out.data.size());
    }
    // The mask is a bool array in the same memory order as the data.
    const NpyArray mask =
        npy_from_raw("|b1", shape, fortran, reinterpret_cast<const std::byte*>(m.data()), m.size(), context);
    out.mask = mask.to_vector<std::uint8_t>();
  }
  return out;
}

MaskedArray read_pickled_array(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail<IoError>("{}: cannot open", path.string());
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_pickled_array(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size(), path.string());
}

}  // namespace sbench
