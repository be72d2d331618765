/*
 * hb-recv: the instance-HA engine's heartbeat receiver, in C because Node cannot be cheap enough.
 *
 * 5,000 computes send 10,000 signed packets a second. node:dgram makes one recvmsg and one JS
 * event per datagram: 4.9 % of a core before a single MAC is checked (bench/ha-engine.bench.ts),
 * the whole 5 % budget. This program takes the per-packet path out of Node: it reads up to
 * BATCH datagrams per recvmmsg(2), checks each exactly as heartbeat.ts's verifier does up to the
 * body (size, header, known host, source address, HMAC-SHA256 with libcrypto, replay window), and
 * tells the engine (native-receiver.ts) only
 *   - a body whose bytes differ from the last one of that host and network (it is parsed and
 *     validated there, once: the body changes only when what the agent sees changes), and
 *   - every tick (100 ms), for each host and network heard since the last tick, its last packet's
 *     counters and arrival time (CLOCK_MONOTONIC, the clock Node's performance.now() runs on).
 * So Node does work per tick and per changed body, not per packet.
 *
 * One difference from the Node verifier: a packet with a valid MAC moves the replay window here
 * even when its body is later refused (bad JSON, another site): such a packet is the host's own
 * agent misbehaving, never a forger, and it is still counted as dropped, by the engine.
 *
 * Protocol. stdin, text lines, then "end":
 *   bind <net 0|1> <address> <port> <rcvbuf bytes>
 *   host <index> <name> <hex key, 64 chars> <management address|-> <storage address|->
 *   tick <ms>
 * stdout, records of: u8 type, u32 payload length (little-endian), payload:
 *   'R' ready: per bind, u8 net and u16 port (as bound: a port 0 turned into the real one)
 *   'E' error: UTF-8 text; the program exits 2 after it
 *   'B' body:  u32 host, u8 net, u32 generation, then the body bytes
 *   'T' tick:  u64 now ns, u64 accepted, NDROP x u64 drops, u32 entries, then per entry
 *              u32 host, u8 net, u32 generation, u32 packets, f64 epoch, u32 seq, f64 sentAt,
 *              u64 arrival ns
 * stdin's end (the engine gone) ends the program.
 *
 * Build: cc -O2 -o hb-recv hb-recv.c -lcrypto (native/build.ts).
 */
#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 16384 /* heartbeat.ts MAX_PACKET_BYTES */
#define BATCH 64
#define MAC_BYTES 32
#define FIXED_HEADER 6 /* "HAHB", version, host length */
#define COUNTERS 20    /* epoch f64, seq u32, sentAt f64 */
#define MAX_SAFE 9007199254740991.0
#define MAX_HOSTS 100000
#define COALESCE_MS 20

/* The order of DROP_REASONS in heartbeat.ts, up to the two only the engine can tell (site, network). */
enum { D_OVERSIZED, D_MALFORMED, D_UNKNOWN_HOST, D_WRONG_SOURCE, D_FORGED, D_REPLAYED, D_OLD_EPOCH, NDROP };

struct addr {
  int family; /* 0: not known, any source accepted */
  unsigned char bytes[16];
};

struct slot {
  int heard;  /* a packet accepted since the last tick */
  int seen;   /* ever accepted: the replay window is set */
  double epoch, sent_at;
  uint32_t seq, gen, packets;
  uint64_t at_ns;
  unsigned char *body;
  size_t body_len;
};

struct host {
  char *name;
  size_t name_len;
  SHA256_CTX inner, outer; /* the key's ipad and opad blocks, hashed once */
  struct addr source[2];
  struct slot slot[2];
};

static struct host *hosts;
static size_t nhosts;
/* Open addressing on the host name: a lookup costs a hash and one memcmp, not a scan. */
static int32_t *table;
static size_t table_size;

struct bind {
  int net, fd;
  unsigned port;
};
static struct bind binds[2];
static int nbinds;

static uint64_t accepted, drops[NDROP];
static unsigned tick_ms = 100;

static unsigned char *out;
static size_t out_len, out_cap;

static void put(const void *data, size_t n) {
  if (out_len + n > out_cap) {
    out_cap = (out_len + n) * 2;
    out = realloc(out, out_cap);
    if (!out) exit(3);
  }
  memcpy(out + out_len, data, n);
  out_len += n;
}
static void put_u8(uint8_t v) { put(&v, 1); }
static void put_u16(uint16_t v) { put(&v, 2); }
static void put_u32(uint32_t v) { put(&v, 4); }
static void put_u64(uint64_t v) { put(&v, 8); }
static void put_f64(double v) { put(&v, 8); }

/* Starts a record; its length is patched in by end_record. */
static size_t begin_record(char type) {
  put_u8((uint8_t)type);
  size_t at = out_len;
  put_u32(0);
  return at;
}
static void end_record(size_t at) {
  uint32_t n = (uint32_t)(out_len - at - 4);
  memcpy(out + at, &n, 4);
}

static void flush_out(void) {
  size_t done = 0;
  while (done < out_len) {
    ssize_t n = write(1, out + done, out_len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      exit(0); /* the engine is gone */
    }
    done += (size_t)n;
  }
  out_len = 0;
}

static void fail(const char *format, ...) {
  char text[512];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof text, format, args);
  va_end(args);
  size_t at = begin_record('E');
  put(text, strlen(text));
  end_record(at);
  flush_out();
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t hash_name(const unsigned char *s, size_t n) {
  uint64_t h = 1469598103934665603u; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211u;
  return h;
}

static struct host *find_host(const unsigned char *name, size_t n) {
  for (size_t i = hash_name(name, n) & (table_size - 1);; i = (i + 1) & (table_size - 1)) {
    int32_t at = table[i];
    if (at < 0) return NULL;
    struct host *h = &hosts[at];
    if (h->name_len == n && memcmp(h->name, name, n) == 0) return h;
  }
}

static int parse_addr(const char *text, struct addr *a) {
  memset(a, 0, sizeof *a);
  if (strcmp(text, "-") == 0) return 1;
  if (inet_pton(AF_INET, text, a->bytes) == 1) a->family = AF_INET;
  else if (inet_pton(AF_INET6, text, a->bytes) == 1) a->family = AF_INET6;
  else return 0;
  return 1;
}

/* The sender against the address the inventory gives; an IPv4 sender on a dual-stack socket is ::ffff:a.b.c.d. */
static int same_source(const struct addr *want, const struct sockaddr_storage *from) {
  if (want->family == 0) return 1;
  if (from->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)from;
    return want->family == AF_INET && memcmp(want->bytes, &v4->sin_addr, 4) == 0;
  }
  if (from->ss_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)from;
    if (want->family == AF_INET6) return memcmp(want->bytes, &v6->sin6_addr, 16) == 0;
    return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && memcmp(want->bytes, v6->sin6_addr.s6_addr + 12, 4) == 0;
  }
  return 0;
}

static int hex_key(const char *hex, unsigned char key[32]) {
  if (strlen(hex) != 64) return 0;
  for (int i = 0; i < 32; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return 0;
    key[i] = (unsigned char)v;
  }
  return 1;
}

static void add_host(size_t index, const char *name, const char *hex, const char *management, const char *storage) {
  unsigned char key[32], pad[64];
  if (index != nhosts || index >= MAX_HOSTS) fail("host %zu out of order", index);
  if (!hex_key(hex, key)) fail("host %s: bad key", name);
  struct host *h = &hosts[nhosts++];
  memset(h, 0, sizeof *h);
  h->name = strdup(name);
  h->name_len = strlen(name);
  if (h->name_len == 0 || h->name_len > 255) fail("host %zu: bad name", index);
  if (!parse_addr(management, &h->source[0]) || !parse_addr(storage, &h->source[1]))
    fail("host %s: bad address", name);
  /* HMAC with a 32-byte key: the key padded to the block, xor ipad / opad (RFC 2104). */
  memset(pad, 0x36, sizeof pad);
  for (int i = 0; i < 32; i++) pad[i] ^= key[i];
  SHA256_Init(&h->inner);
  SHA256_Update(&h->inner, pad, sizeof pad);
  memset(pad, 0x5c, sizeof pad);
  for (int i = 0; i < 32; i++) pad[i] ^= key[i];
  SHA256_Init(&h->outer);
  SHA256_Update(&h->outer, pad, sizeof pad);
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(pad, sizeof pad);
}

static void add_bind(int net, const char *address, unsigned port, int rcvbuf) {
  if (nbinds >= 2 || (net != 0 && net != 1)) fail("bad bind line");
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    len = sizeof *v6;
  } else {
    fail("Cannot listen on %s: not an IP address", address);
  }
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("Cannot open a socket for %s: %s", address, strerror(errno));
  /* Root may pass net.core.rmem_max (FORCE); otherwise the kernel caps it, as Node's does. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0) fail("Cannot listen on %s:%u: %s", address, port, strerror(errno));
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) fail("getsockname: %s", strerror(errno));
  binds[nbinds].net = net;
  binds[nbinds].fd = fd;
  binds[nbinds].port = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  nbinds++;
}

static void read_config(void) {
  char line[1024], a[300], b[300], c[300], d[300];
  size_t capacity = 1024;
  hosts = malloc(capacity * sizeof *hosts);
  while (fgets(line, sizeof line, stdin)) {
    size_t index;
    unsigned port, ms;
    int net, rcvbuf;
    if (strcmp(line, "end\n") == 0) break;
    if (sscanf(line, "bind %d %299s %u %d", &net, a, &port, &rcvbuf) == 4) {
      add_bind(net, a, port, rcvbuf);
    } else if (sscanf(line, "host %zu %299s %299s %299s %299s", &index, a, b, c, d) == 5) {
      if (nhosts == capacity) {
        capacity *= 2;
        hosts = realloc(hosts, capacity * sizeof *hosts);
        if (!hosts) fail("out of memory");
      }
      add_host(index, a, b, c, d);
    } else if (sscanf(line, "tick %u", &ms) == 1 && ms > 0) {
      tick_ms = ms;
    } else {
      /* Its first word only: a host line carries the host's key, and an error is logged. */
      fail("bad config line: %.8s...", strtok(line, " \n") ? line : "");
    }
  }
  if (nbinds == 0) fail("no bind line");
  for (table_size = 16; table_size < nhosts * 2; table_size *= 2) {
  }
  table = malloc(table_size * sizeof *table);
  memset(table, 0xff, table_size * sizeof *table); /* -1: empty */
  for (size_t k = 0; k < nhosts; k++) {
    size_t i = hash_name((unsigned char *)hosts[k].name, hosts[k].name_len) & (table_size - 1);
    while (table[i] >= 0) i = (i + 1) & (table_size - 1);
    table[i] = (int32_t)k;
  }
}

static int safe_count(double v) { return v >= 0 && v <= MAX_SAFE && floor(v) == v; }

static void receive(int net, const unsigned char *p, size_t len, int truncated, const struct sockaddr_storage *from,
                    uint64_t at) {
  if (truncated || len > MAX_PACKET) return (void)drops[D_OVERSIZED]++;
  if (len < FIXED_HEADER + 1 + COUNTERS + MAC_BYTES + 2) return (void)drops[D_MALFORMED]++;
  if (memcmp(p, "HAHB", 4) != 0 || p[4] != 1) return (void)drops[D_MALFORMED]++;
  size_t host_end = FIXED_HEADER + p[5], header_end = host_end + COUNTERS, mac_end = header_end + MAC_BYTES;
  if (mac_end >= len) return (void)drops[D_MALFORMED]++;
  struct host *h = find_host(p + FIXED_HEADER, p[5]);
  if (!h) return (void)drops[D_UNKNOWN_HOST]++;
  if (!same_source(&h->source[net], from)) return (void)drops[D_WRONG_SOURCE]++;

  unsigned char mac[32];
  SHA256_CTX ctx = h->inner;
  SHA256_Update(&ctx, p, header_end);
  SHA256_Update(&ctx, p + mac_end, len - mac_end);
  SHA256_Final(mac, &ctx);
  ctx = h->outer;
  SHA256_Update(&ctx, mac, sizeof mac);
  SHA256_Final(mac, &ctx);
  if (CRYPTO_memcmp(mac, p + header_end, MAC_BYTES) != 0) return (void)drops[D_FORGED]++;

  /* Big-endian on the wire (heartbeat.ts writes them with writeDoubleBE / writeUInt32BE). */
  uint64_t bits;
  uint32_t seq;
  double epoch, sent_at;
  memcpy(&bits, p + host_end, 8);
  bits = be64toh(bits);
  memcpy(&epoch, &bits, 8);
  memcpy(&seq, p + host_end + 8, 4);
  seq = ntohl(seq);
  memcpy(&bits, p + host_end + 12, 8);
  bits = be64toh(bits);
  memcpy(&sent_at, &bits, 8);
  if (!safe_count(epoch) || !safe_count(sent_at)) return (void)drops[D_MALFORMED]++;
  struct slot *s = &h->slot[net];
  if (s->seen && epoch < s->epoch) return (void)drops[D_OLD_EPOCH]++;
  if (s->seen && epoch == s->epoch && seq <= s->seq) return (void)drops[D_REPLAYED]++;

  const unsigned char *body = p + mac_end;
  size_t body_len = len - mac_end;
  if (!s->seen || body_len != s->body_len || memcmp(body, s->body, body_len) != 0) {
    unsigned char *copy = realloc(s->body, body_len);
    if (!copy) exit(3);
    memcpy(copy, body, body_len);
    s->body = copy;
    s->body_len = body_len;
    s->gen++;
    size_t rec = begin_record('B');
    put_u32((uint32_t)(h - hosts));
    put_u8((uint8_t)net);
    put_u32(s->gen);
    put(body, body_len);
    end_record(rec);
  }
  s->seen = 1;
  s->heard = 1;
  s->packets++;
  s->epoch = epoch;
  s->seq = seq;
  s->sent_at = sent_at;
  s->at_ns = at;
  accepted++;
}

static void tick(void) {
  size_t rec = begin_record('T');
  put_u64(now_ns());
  put_u64(accepted);
  for (int i = 0; i < NDROP; i++) put_u64(drops[i]);
  size_t count_at = out_len;
  uint32_t count = 0;
  put_u32(0);
  for (size_t k = 0; k < nhosts; k++) {
    for (int net = 0; net < 2; net++) {
      struct slot *s = &hosts[k].slot[net];
      if (!s->heard) continue;
      put_u32((uint32_t)k);
      put_u8((uint8_t)net);
      put_u32(s->gen);
      put_u32(s->packets);
      put_f64(s->epoch);
      put_u32(s->seq);
      put_f64(s->sent_at);
      put_u64(s->at_ns);
      s->heard = 0;
      s->packets = 0;
      count++;
    }
  }
  memcpy(out + count_at, &count, 4);
  end_record(rec);
}

int main(void) {
  static unsigned char buffers[BATCH][MAX_PACKET + 1];
  static struct mmsghdr msgs[BATCH];
  static struct iovec iov[BATCH];
  static struct sockaddr_storage from[BATCH];

  read_config();
  /* A 64 KiB pipe holds about one tick of 5,000 hosts: a 1 MiB one lets the engine's event loop
     stall (a GC, an evaluation) for seconds before this program waits on the write; arrival times
     are taken at the read, so such a wait never makes a heartbeat look late. */
  fcntl(1, F_SETPIPE_SZ, 1 << 20);
  size_t rec = begin_record('R');
  for (int i = 0; i < nbinds; i++) {
    put_u8((uint8_t)binds[i].net);
    put_u16((uint16_t)binds[i].port);
  }
  end_record(rec);
  flush_out();

  struct pollfd fds[3];
  for (int i = 0; i < nbinds; i++) fds[i] = (struct pollfd){.fd = binds[i].fd, .events = POLLIN};
  fds[nbinds] = (struct pollfd){.fd = 0, .events = POLLIN};
  uint64_t next_tick = now_ns() + (uint64_t)tick_ms * 1000000u;
  for (;;) {
    uint64_t now = now_ns();
    int wait = now >= next_tick ? 0 : (int)((next_tick - now) / 1000000u) + 1;
    if (poll(fds, (nfds_t)nbinds + 1, wait) < 0 && errno != EINTR) fail("poll: %s", strerror(errno));
    if (fds[nbinds].revents) {
      char sink[256];
      if (read(0, sink, sizeof sink) <= 0) return 0; /* the engine closed stdin: it is gone */
    }
    int got = 0;
    for (int i = 0; i < nbinds; i++) {
      if (!(fds[i].revents & POLLIN)) continue;
      got = 1;
      for (;;) {
        for (int k = 0; k < BATCH; k++) {
          iov[k] = (struct iovec){.iov_base = buffers[k], .iov_len = sizeof buffers[k]};
          msgs[k].msg_hdr = (struct msghdr){
              .msg_name = &from[k], .msg_namelen = sizeof from[k], .msg_iov = &iov[k], .msg_iovlen = 1};
        }
        int n = recvmmsg(binds[i].fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) break;
        uint64_t at = now_ns();
        for (int k = 0; k < n; k++)
          receive(binds[i].net, buffers[k], msgs[k].msg_len, (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) != 0, &from[k], at);
        if (n < BATCH) break;
      }
    }
    if (now_ns() >= next_tick) {
      tick();
      next_tick += (uint64_t)tick_ms * 1000000u;
      if (next_tick < now_ns()) next_tick = now_ns() + (uint64_t)tick_ms * 1000000u;
    }
    if (out_len > 0) flush_out();
    /* Let packets gather in the socket buffers (4 MiB: seconds of them) before the next poll, so
       each recvmmsg takes a full batch: a wake-up per packet costs more than the packet (every
       syscall is dear in a VM), while a heartbeat seen COALESCE_MS late changes nothing. */
    if (got) nanosleep(&(struct timespec){.tv_nsec = COALESCE_MS * 1000000L}, NULL);
  }
}
