// HTTP/1.1 load generator for bench/proxy: fixed rate (open loop) or maximum throughput (closed loop).
// At a fixed rate each request has an intended send time t0 + k/rate, and its latency runs from that
// time to the end of its response, so queueing in the client or the proxies shows (no coordinated
// omission). Prints one JSON line on stdout; run.ts compiles it with `cc -O2` and reads that line.
//
//   loadgen --port P [--host 127.0.0.1] (--rate R | --max) [--conns N] [--duration S]
//           [--body BYTES] [--path /] [--host-header NAME]
//
// Only loopback targets (127.0.0.0/8); bounded in time (alarm) and count (rate x duration).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RBUF_BYTES 65536
#define DRAIN_NS 5000000000ull // after the last scheduled send, wait this long for responses
#define MAX_CONNECT_FAILURES 200

enum { CONNECTING, IDLE, BUSY };

typedef struct {
  int fd, state;
  uint64_t startNs; // intended send time (rate mode) or actual send time (max mode)
  size_t written, rlen;
  char rbuf[RBUF_BYTES];
} Conn;

static Conn *conns;
static int nconns, *idle, nidle, epfd, isMax, connectFailures;
static struct sockaddr_in target;
static char *req;
static size_t reqLen;
static uint64_t *lat, nlat, latCap, sent, completed, errors;

static uint64_t nowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg) {
  fprintf(stderr, "loadgen: %s\n", msg);
  exit(2);
}

static void openConn(int i) {
  Conn *c = &conns[i];
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) die("socket failed");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->state = CONNECTING;
  c->rlen = 0;
  int rc = connect(c->fd, (struct sockaddr *)&target, sizeof target);
  if (rc < 0 && errno != EINPROGRESS) die("connect failed");
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

// Closes a connection after an error or `Connection: close`, counts a lost request, and opens a new one.
static void resetConn(int i, int lostRequest) {
  Conn *c = &conns[i];
  if (lostRequest) errors++;
  if (c->state == IDLE) {
    for (int k = 0; k < nidle; k++)
      if (idle[k] == i) idle[k] = idle[--nidle], k = nidle;
  }
  close(c->fd);
  openConn(i);
}

static void setIdle(int i) {
  conns[i].state = IDLE;
  idle[nidle++] = i;
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
  epoll_ctl(epfd, EPOLL_CTL_MOD, conns[i].fd, &ev);
}

static void writeMore(int i) {
  Conn *c = &conns[i];
  while (c->written < reqLen) {
    ssize_t n = write(c->fd, req + c->written, reqLen - c->written);
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) return resetConn(i, 1);
    c->written += (size_t)n;
  }
  uint32_t events = c->written < reqLen ? EPOLLIN | EPOLLOUT : EPOLLIN;
  struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)i};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void sendOn(int i, uint64_t startNs) {
  Conn *c = &conns[i];
  c->state = BUSY;
  c->startNs = startNs;
  c->written = 0;
  c->rlen = 0;
  sent++;
  writeMore(i);
}

static void record(uint64_t ns) {
  if (nlat == latCap) {
    latCap = latCap ? latCap * 2 : 65536;
    lat = realloc(lat, latCap * sizeof *lat);
    if (!lat) die("out of memory");
  }
  lat[nlat++] = ns;
}

// Case-insensitive search for word in [s, end); the buffer is not NUL-terminated.
static int hasWord(const char *s, const char *end, const char *word) {
  size_t n = strlen(word);
  for (; s + n <= end; s++)
    if (!strncasecmp(s, word, n)) return 1;
  return 0;
}

// Parses a chunked body starting at p; returns its length in bytes, 0 while incomplete, -1 when malformed.
static long chunkedLen(const char *p, const char *end) {
  const char *s = p;
  for (;;) {
    const char *eol = memmem(s, (size_t)(end - s), "\r\n", 2);
    if (!eol) return 0;
    char *stop;
    unsigned long size = strtoul(s, &stop, 16);
    if (stop == s) return -1;
    s = eol + 2;
    if (size == 0) return end - s >= 2 ? (long)(s + 2 - p) : 0; // no trailers expected
    if ((unsigned long)(end - s) < size + 2) return 0;
    s += size + 2;
  }
}

// Returns 1 when a whole response is in the buffer (status in *status, close wanted in *isClose),
// 0 while incomplete, -1 when it is malformed or has no length.
static int parseResponse(Conn *c, int *status, int *isClose) {
  char *b = c->rbuf, *end = b + c->rlen;
  char *hend = memmem(b, c->rlen, "\r\n\r\n", 4);
  if (!hend) return c->rlen == RBUF_BYTES ? -1 : 0;
  if (c->rlen < 12 || strncmp(b, "HTTP/1.", 7) != 0) return -1;
  *status = atoi(b + 9);
  *isClose = 0;
  long contentLength = -1;
  int isChunked = 0;
  // The status line ends at hend at the latest, so each search below finds its "\r\n".
  for (char *line = (char *)memmem(b, (size_t)(hend + 2 - b), "\r\n", 2) + 2; line < hend;) {
    char *eol = memmem(line, (size_t)(hend + 2 - line), "\r\n", 2);
    if (!strncasecmp(line, "content-length:", 15)) contentLength = strtol(line + 15, NULL, 10);
    if (!strncasecmp(line, "transfer-encoding:", 18) && hasWord(line, eol, "chunked")) isChunked = 1;
    if (!strncasecmp(line, "connection:", 11) && hasWord(line, eol, "close")) *isClose = 1;
    line = eol + 2;
  }
  char *body = hend + 4;
  if (isChunked) {
    long n = chunkedLen(body, end);
    return n < 0 ? -1 : n > 0;
  }
  if (contentLength < 0) return *status == 204 || *status == 304 ? 1 : -1;
  if (body + contentLength > b + RBUF_BYTES) return -1;
  return end - body >= contentLength;
}

static void readMore(int i, uint64_t now) {
  Conn *c = &conns[i];
  ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF_BYTES - c->rlen);
  if (n < 0 && errno == EAGAIN) return;
  if (n <= 0 || c->state != BUSY) return resetConn(i, c->state == BUSY);
  c->rlen += (size_t)n;
  int status = 0, isClose = 0, done = parseResponse(c, &status, &isClose);
  if (done == 0) return;
  if (done < 0) return resetConn(i, 1);
  if (status >= 200 && status < 300) {
    completed++;
    record(now - c->startNs);
  } else {
    errors++;
  }
  if (isClose) return resetConn(i, 0);
  setIdle(i);
}

static void onConnected(int i) {
  Conn *c = &conns[i];
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) {
    if (++connectFailures > MAX_CONNECT_FAILURES) die("target refuses connections");
    close(c->fd);
    return openConn(i);
  }
  setIdle(i);
}

static int cmpU64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pctMs(double p) {
  if (nlat == 0) return 0;
  uint64_t rank = (uint64_t)(p * (double)nlat); // nearest rank: ceil(p * n)
  if ((double)rank < p * (double)nlat || rank < 1) rank++;
  if (rank > nlat) rank = nlat;
  return (double)lat[rank - 1] / 1e6;
}

static void buildRequest(const char *path, const char *host, int bodyBytes) {
  char head[512];
  int n = snprintf(head, sizeof head,
                   "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n"
                   "Content-Length: %d\r\n\r\n",
                   path, host, bodyBytes);
  if (n <= 0 || (size_t)n >= sizeof head) die("request head too long");
  reqLen = (size_t)n + (size_t)bodyBytes;
  req = malloc(reqLen);
  memcpy(req, head, (size_t)n);
  for (int k = 0; k < bodyBytes; k++) req[n + k] = (char)('a' + k % 26);
}

static void armTimer(int tfd, uint64_t atNs) {
  struct itimerspec its = {0};
  its.it_value.tv_sec = (time_t)(atNs / 1000000000ull);
  its.it_value.tv_nsec = (long)(atNs % 1000000000ull);
  timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *path = "/", *hostHeader = NULL;
  int port = 0, bodyBytes = 1024;
  double rate = 0, durationS = 10;
  nconns = 16;
  for (int k = 1; k < argc; k++) {
    const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
    if (!strcmp(a, "--max")) { isMax = 1; continue; }
    if (!v) die("each option except --max takes a value");
    if (!strcmp(a, "--port")) port = atoi(v);
    else if (!strcmp(a, "--host")) host = v;
    else if (!strcmp(a, "--rate")) rate = atof(v);
    else if (!strcmp(a, "--conns")) nconns = atoi(v);
    else if (!strcmp(a, "--duration")) durationS = atof(v);
    else if (!strcmp(a, "--body")) bodyBytes = atoi(v);
    else if (!strcmp(a, "--path")) path = v;
    else if (!strcmp(a, "--host-header")) hostHeader = v;
    else die("unknown option (see the comment at the top of loadgen.c)");
    k++;
  }
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &target.sin_addr) != 1 || strncmp(host, "127.", 4) != 0)
    die("--host must be a 127.x.x.x address");
  if (port <= 0 || port > 65535) die("--port must be 1..65535");
  if (nconns < 1 || nconns > 1024) die("--conns must be 1..1024");
  if (durationS <= 0 || durationS > 600) die("--duration must be in (0, 600] seconds");
  if (bodyBytes < 0 || bodyBytes > 1 << 20) die("--body must be 0..1048576 bytes");
  if (!isMax && (rate <= 0 || rate > 1e6)) die("--rate must be in (0, 1000000], or use --max");
  alarm((unsigned)durationS + 30); // a hard stop, whatever happens
  prctl(PR_SET_TIMERSLACK, 1UL);   // wake at each intended send time, not up to 50 us after it
  char hostBuf[64];
  snprintf(hostBuf, sizeof hostBuf, "%s:%d", host, port);
  buildRequest(path, hostHeader ? hostHeader : hostBuf, bodyBytes);

  epfd = epoll_create1(0);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct epoll_event tev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
  epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &tev);
  conns = calloc((size_t)nconns, sizeof *conns);
  idle = calloc((size_t)nconns, sizeof *idle);
  if (!conns || !idle) die("out of memory");
  for (int i = 0; i < nconns; i++) openConn(i);
  // Wait until every connection is up, so connection set-up is not part of the measurement.
  for (uint64_t until = nowNs() + 5000000000ull; nidle < nconns;) {
    if (nowNs() > until) die("connections not established within 5 s");
    struct epoll_event evs[64];
    int n = epoll_wait(epfd, evs, 64, 100);
    for (int e = 0; e < n; e++)
      if (evs[e].data.u32 != UINT32_MAX) onConnected((int)evs[e].data.u32);
  }

  const uint64_t total = isMax ? 0 : (uint64_t)(rate * durationS);
  const uint64_t t0 = nowNs(), endNs = t0 + (uint64_t)(durationS * 1e9);
  uint64_t next = 0, armedNs = 0;
  for (;;) {
    uint64_t now = nowNs();
    if (isMax) {
      if (now >= endNs) break;
      while (nidle > 0) sendOn(idle[--nidle], now);
    } else {
      uint64_t due = t0 + (uint64_t)((double)next * 1e9 / rate);
      while (next < total && due <= now && nidle > 0) {
        sendOn(idle[--nidle], due);
        due = t0 + (uint64_t)((double)++next * 1e9 / rate);
      }
      if (next == total && completed + errors >= total) break;
      if (now > endNs + DRAIN_NS) break;
      if (next < total && nidle > 0 && due != armedNs) armTimer(tfd, armedNs = due);
    }
    struct epoll_event evs[64];
    int n = epoll_wait(epfd, evs, 64, 50);
    now = nowNs();
    for (int e = 0; e < n; e++) {
      uint32_t i = evs[e].data.u32;
      if (i == UINT32_MAX) {
        uint64_t expirations;
        (void)!read(tfd, &expirations, sizeof expirations);
        armedNs = 0;
        continue;
      }
      Conn *c = &conns[i];
      if (c->state == CONNECTING) onConnected((int)i);
      else if ((evs[e].events & EPOLLOUT) && c->state == BUSY && c->written < reqLen) writeMore((int)i);
      else if (evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) readMore((int)i, now);
    }
  }

  // Requests scheduled but never answered (still queued or in flight at the end) count as errors:
  // leaving them out would hide exactly the overload this tool is meant to show.
  if (!isMax && completed + errors < total) errors = total - completed;
  qsort(lat, nlat, sizeof *lat, cmpU64);
  double elapsedS = isMax ? durationS : (double)(nowNs() - t0) / 1e9;
  printf("{\"mode\":\"%s\",\"targetRps\":%.0f,\"connections\":%d,\"scheduled\":%llu,\"sent\":%llu,"
         "\"completed\":%llu,\"errors\":%llu,\"durationS\":%.3f,\"p50Ms\":%.4f,\"p90Ms\":%.4f,"
         "\"p99Ms\":%.4f,\"p999Ms\":%.4f,\"maxMs\":%.4f,\"achievedRps\":%.1f}\n",
         isMax ? "max" : "rate", isMax ? 0 : rate, nconns, (unsigned long long)total,
         (unsigned long long)sent, (unsigned long long)completed, (unsigned long long)errors, elapsedS,
         pctMs(0.50), pctMs(0.90), pctMs(0.99), pctMs(0.999), nlat ? (double)lat[nlat - 1] / 1e6 : 0,
         (double)completed / elapsedS);
  return 0;
}
