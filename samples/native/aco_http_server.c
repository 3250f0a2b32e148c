/*
 * aco_http_server.c - the native mode of samples/Aco.HttpServer: an HTTP/1.1
 * server whose connections are native coroutines, one each, doing socket I/O
 * through aco_bridge.h. samples/Aco.HttpServer/README.md states what it
 * answers; the managed mode answers the same, byte for byte.
 *
 * A connection holds no buffer while it is idle: it waits for a readiness
 * report, takes a receive buffer from its thread's pool, answers every request
 * the buffer holds (pipelined answers leave in one write), and gives the
 * buffer back once nothing is left half-read. Its stack stays small, so what
 * a share stack saves of it while it waits is small too.
 *
 * Everything here runs on the scheduler thread of the coroutine: the pools and
 * the connection table are that thread's (thread-locals); the configuration
 * is written once before the first connection; the response counts are atomic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aco_bridge.h"

#define BODY __attribute__((visibility("default")))
/* Keeps a function's frame (and the buffers in it) off the stack of the idle
 * wait: what a share stack saves of an idle connection is that wait's frames
 * only. */
#define NOINLINE __attribute__((noinline))

/* ---- configuration and counts (shared with C#) --------------------------------- */

/* Response counts, by status (the order of HTTP_STATUSES). */
enum { S200, S400, S404, S408, S413, S431, S501, STATUS_COUNT };
static const int HTTP_STATUSES[STATUS_COUNT] = {200, 400, 404, 408, 413, 431, 501};

/* What C# configures before the first connection (HttpServerOptions). */
typedef struct {
    int64_t idle_timeout_ms;
    int64_t max_body_bytes;
    int32_t max_head_bytes;
    int32_t json_handler_id; /* the managed handler that writes the /json body */
} http_config;

static http_config config = {30000, 1 << 20, 8192, 1};
static _Atomic int64_t responses[STATUS_COUNT];

BODY void aco_http_configure(const http_config* c) { config = *c; }

/* How many responses with HTTP_STATUSES[index] were sent, process-wide. */
BODY int64_t aco_http_responses(int32_t index) {
    return index >= 0 && index < STATUS_COUNT ? atomic_load(&responses[index]) : 0;
}

BODY int32_t aco_http_status_of(int32_t index) {
    return index >= 0 && index < STATUS_COUNT ? HTTP_STATUSES[index] : 0;
}

/* ---- this thread's connections and buffers ------------------------------------------ */

enum { CONN_NONE = 0, CONN_IDLE = 1, CONN_BUSY = 2 };

/* One free buffer: its first bytes link to the next. */
typedef struct free_buffer {
    struct free_buffer* next;
} free_buffer;

/* Free buffers of one size, kept for reuse: as many as were busy at once, up
 * to POOL_KEEP; more go back to malloc (a burst leaves no lasting cost). */
typedef struct {
    free_buffer* first;
    int count;
} buffer_pool;

#define POOL_KEEP 32

typedef struct {
    uint8_t* state; /* CONN_*, by descriptor */
    size_t state_capacity;
    int draining;   /* the stop has begun: idle connections close, busy ones after their answers */
    buffer_pool receive_pool;
    buffer_pool send_pool;
    time_t date_second; /* the second `date` was formatted for */
    char date[40];      /* "Date: ...\r\n" */
    size_t date_len;
} thread_state;

static __thread thread_state T;

#define SEND_BUFFER_BYTES 16384

static size_t receive_buffer_bytes(void) {
    /* A whole head, and room behind it for what a pipelining client sent next. */
    size_t n = (size_t)config.max_head_bytes + 4096;
    return n < 8192 ? 8192 : n;
}

static uint8_t* take_buffer(buffer_pool* pool, size_t bytes) {
    free_buffer* b = pool->first;
    if (b != NULL) {
        pool->first = b->next;
        pool->count--;
        return (uint8_t*)b;
    }
    return malloc(bytes);
}

static void give_buffer(buffer_pool* pool, uint8_t* p) {
    if (p == NULL) return;
    if (pool->count >= POOL_KEEP) {
        free(p);
        return;
    }
    free_buffer* b = (free_buffer*)p;
    b->next = pool->first;
    pool->first = b;
    pool->count++;
}

static void set_state(int fd, uint8_t state) {
    if ((size_t)fd >= T.state_capacity) {
        if (state == CONN_NONE) return;
        size_t capacity = T.state_capacity < 1024 ? 1024 : T.state_capacity;
        while (capacity <= (size_t)fd) capacity *= 2;
        uint8_t* grown = realloc(T.state, capacity);
        if (grown == NULL) return; /* the drain then treats it as busy: it closes at the deadline */
        memset(grown + T.state_capacity, 0, capacity - T.state_capacity);
        T.state = grown;
        T.state_capacity = capacity;
    }
    T.state[fd] = state;
}

/* Stop, step 1 (on each scheduler thread): idle connections close now. */
BODY void aco_http_drain(void) {
    T.draining = 1;
    for (size_t fd = 0; fd < T.state_capacity; fd++)
        if (T.state[fd] == CONN_IDLE) shutdown((int)fd, SHUT_RD); /* its wait ends; it finds the end and closes */
}

/* Stop, step 2: every connection still open closes now. */
BODY void aco_http_abort(void) {
    T.draining = 1;
    for (size_t fd = 0; fd < T.state_capacity; fd++)
        if (T.state[fd] != CONN_NONE) shutdown((int)fd, SHUT_RDWR);
}

/* ---- responses -------------------------------------------------------------------- */

/* "Date: Tue, 02 Dec 2026 18:45:28 GMT\r\n", formatted once a second. */
static void refresh_date(void) {
    time_t now = time(NULL);
    if (now == T.date_second) return;
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    gmtime_r(&now, &tm);
    int n = snprintf(T.date, sizeof T.date, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[tm.tm_wday],
                     tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    T.date_len = n > 0 && (size_t)n < sizeof T.date ? (size_t)n : 0;
    T.date_second = now;
}

typedef struct {
    uint8_t* data;
    size_t len;
} out_buffer;

static void put(out_buffer* o, const void* p, size_t n) {
    memcpy(o->data + o->len, p, n);
    o->len += n;
}

#define PUT_LITERAL(o, s) put((o), (s), sizeof(s) - 1)

static void put_number(out_buffer* o, size_t v) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) o->data[o->len++] = (uint8_t)digits[--n];
}

static int status_index(int status) {
    for (int i = 0; i < STATUS_COUNT; i++)
        if (HTTP_STATUSES[i] == status) return i;
    return S400;
}

/* Appends a response; the longest one (the /json answer) fits in 256 bytes. */
static void respond(out_buffer* o, int status, const char* type, const void* body, size_t body_len,
                    int close, int http10_keep_alive) {
    switch (status) {
    case 200: PUT_LITERAL(o, "HTTP/1.1 200 OK\r\n"); break;
    case 400: PUT_LITERAL(o, "HTTP/1.1 400 Bad Request\r\n"); break;
    case 404: PUT_LITERAL(o, "HTTP/1.1 404 Not Found\r\n"); break;
    case 408: PUT_LITERAL(o, "HTTP/1.1 408 Request Timeout\r\n"); break;
    case 413: PUT_LITERAL(o, "HTTP/1.1 413 Content Too Large\r\n"); break;
    case 431: PUT_LITERAL(o, "HTTP/1.1 431 Request Header Fields Too Large\r\n"); break;
    default: PUT_LITERAL(o, "HTTP/1.1 501 Not Implemented\r\n"); break;
    }
    PUT_LITERAL(o, "Server: aco\r\n");
    refresh_date();
    put(o, T.date, T.date_len);
    if (type != NULL) {
        PUT_LITERAL(o, "Content-Type: ");
        put(o, type, strlen(type));
        PUT_LITERAL(o, "\r\n");
    }
    PUT_LITERAL(o, "Content-Length: ");
    put_number(o, body_len);
    PUT_LITERAL(o, "\r\n");
    if (close)
        PUT_LITERAL(o, "Connection: close\r\n");
    else if (http10_keep_alive)
        PUT_LITERAL(o, "Connection: keep-alive\r\n");
    PUT_LITERAL(o, "\r\n");
    if (body_len > 0) put(o, body, body_len);
    atomic_fetch_add_explicit(&responses[status_index(status)], 1, memory_order_relaxed);
}

/* ---- parsing (RFC 9112, strict framing; see the README) --------------------------- */

enum { ROUTE_NOT_FOUND, ROUTE_PLAINTEXT, ROUTE_JSON };

typedef struct {
    int route;
    int http10;
    int keep_alive;
    int64_t content_length;
} request_head;

/* What parsing the front of the buffer found: a head (its length), more to come, or a refusal (a status). */
enum { HEAD_COMPLETE = 0, HEAD_INCOMPLETE = 1 };

static int is_tchar(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_token(const uint8_t* p, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(p[i])) return 0;
    return 1;
}

static int equals_ignore_case(const uint8_t* p, size_t n, const char* s) {
    size_t m = strlen(s);
    if (n != m) return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = p[i], b = (uint8_t)s[i];
        if (a >= 'A' && a <= 'Z') a = (uint8_t)(a + 32);
        if (b >= 'A' && b <= 'Z') b = (uint8_t)(b + 32);
        if (a != b) return 0;
    }
    return 1;
}

static int equals(const uint8_t* p, size_t n, const char* s) { return n == strlen(s) && memcmp(p, s, n) == 0; }

static int parse_request_line(const uint8_t* line, size_t n, request_head* h) {
    const uint8_t* sp1 = memchr(line, ' ', n);
    if (sp1 == NULL || sp1 == line || !is_token(line, (size_t)(sp1 - line))) return 0;
    const uint8_t* method = line;
    size_t method_len = (size_t)(sp1 - line);
    const uint8_t* target = sp1 + 1;
    size_t rest = n - (size_t)(target - line);
    const uint8_t* sp2 = memchr(target, ' ', rest);
    if (sp2 == NULL || sp2 == target) return 0;
    size_t target_len = (size_t)(sp2 - target);
    for (size_t i = 0; i < target_len; i++)
        if (target[i] < 0x21 || target[i] > 0x7e) return 0;
    const uint8_t* version = sp2 + 1;
    size_t version_len = n - (size_t)(version - line);
    if (equals(version, version_len, "HTTP/1.1"))
        h->http10 = 0;
    else if (equals(version, version_len, "HTTP/1.0"))
        h->http10 = 1;
    else
        return 0;
    h->route = ROUTE_NOT_FOUND;
    if (equals(method, method_len, "GET")) {
        if (equals(target, target_len, "/plaintext"))
            h->route = ROUTE_PLAINTEXT;
        else if (equals(target, target_len, "/json"))
            h->route = ROUTE_JSON;
    }
    return 1;
}

typedef struct {
    int hosts;
    int transfer_encoding;
    int close;
    int keep_alive;
    int64_t content_length; /* -1: none */
} fields_seen;

static void read_connection_options(const uint8_t* v, size_t n, fields_seen* f) {
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t start = i;
        while (i < n && v[i] != ',') i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t')) end--;
        if (equals_ignore_case(v + start, end - start, "close")) f->close = 1;
        if (equals_ignore_case(v + start, end - start, "keep-alive")) f->keep_alive = 1;
    }
}

static int parse_field_line(const uint8_t* line, size_t n, fields_seen* f) {
    const uint8_t* colon = memchr(line, ':', n);
    if (colon == NULL || colon == line || !is_token(line, (size_t)(colon - line))) return 0;
    size_t name_len = (size_t)(colon - line);
    const uint8_t* v = colon + 1;
    size_t v_len = n - name_len - 1;
    while (v_len > 0 && (v[0] == ' ' || v[0] == '\t')) v++, v_len--;
    while (v_len > 0 && (v[v_len - 1] == ' ' || v[v_len - 1] == '\t')) v_len--;
    for (size_t i = 0; i < v_len; i++)
        if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f) return 0;
    if (equals_ignore_case(line, name_len, "Content-Length")) {
        if (f->content_length >= 0 || v_len == 0) return 0;
        int64_t length = 0;
        for (size_t i = 0; i < v_len; i++) {
            if (v[i] < '0' || v[i] > '9') return 0;
            if (length <= (int64_t)1 << 40) length = length * 10 + (v[i] - '0'); /* over any limit: stop growing */
        }
        f->content_length = length;
    } else if (equals_ignore_case(line, name_len, "Transfer-Encoding")) {
        f->transfer_encoding = 1;
    } else if (equals_ignore_case(line, name_len, "Connection")) {
        read_connection_options(v, v_len, f);
    } else if (equals_ignore_case(line, name_len, "Host")) {
        f->hosts++;
    }
    return 1;
}

/* Parses the head at the front of buf[0, len): HEAD_COMPLETE (*consumed: its
 * length, with the empty lines before it), HEAD_INCOMPLETE (*consumed: the
 * empty lines before it), or the status of a refusal. */
static int parse_head(const uint8_t* buf, size_t len, request_head* h, size_t* consumed) {
    size_t start = 0;
    while (len - start >= 2 && buf[start] == '\r' && buf[start + 1] == '\n') start += 2;
    *consumed = start;
    /* Find the end, refusing a bare LF or a bare CR as soon as it arrives. */
    size_t end = 0;
    for (size_t i = start; i < len && end == 0; i++) {
        if (buf[i] == '\n') {
            if (i == start || buf[i - 1] != '\r') return 400;
            if (i - start >= 3 && buf[i - 2] == '\n') end = i + 1;
        } else if (i > start && buf[i - 1] == '\r') {
            return 400; /* a CR not followed by LF */
        }
    }
    if (end == 0) return len - start >= (size_t)config.max_head_bytes ? 431 : HEAD_INCOMPLETE;
    if (end - start > (size_t)config.max_head_bytes) return 431;
    const uint8_t* p = buf + start;
    const uint8_t* stop = buf + end;
    const uint8_t* crlf = memchr(p, '\r', (size_t)(stop - p));
    if (!parse_request_line(p, (size_t)(crlf - p), h)) return 400;
    fields_seen f = {0, 0, 0, 0, -1};
    p = crlf + 2;
    while (p < stop) {
        crlf = memchr(p, '\r', (size_t)(stop - p));
        if (crlf == p) break; /* the empty line */
        if (!parse_field_line(p, (size_t)(crlf - p), &f)) return 400;
        p = crlf + 2;
    }
    if (f.hosts > 1 || (!h->http10 && f.hosts == 0)) return 400;
    if (f.transfer_encoding) return 501;
    if (f.content_length > config.max_body_bytes) return 413;
    h->keep_alive = h->http10 ? f.keep_alive && !f.close : !f.close;
    h->content_length = f.content_length < 0 ? 0 : f.content_length;
    *consumed = end;
    return HEAD_COMPLETE;
}

/* ---- the connection coroutine ---------------------------------------------------------- */

typedef struct {
    int fd;
    uint8_t* in; /* the receive buffer, while a request is in progress; else NULL */
    size_t in_len;
    out_buffer out;
    int64_t deadline; /* of the request in progress (loop clock) */
    int closing;      /* a response that closes the connection was written */
} connection;

static int64_t ms_left(int64_t deadline) {
    int64_t now = aco_loop_clock_now();
    if (now >= deadline) return 0;
    return (deadline - now) * 1000 / aco_loop_clock_frequency() + 1;
}

static int64_t deadline_in(int64_t ms) { return aco_loop_clock_now() + ms * (aco_loop_clock_frequency() / 1000); }

static int flush(connection* c) {
    if (c->out.len == 0) return ACO_BRIDGE_OK;
    size_t written = 0;
    int status = aco_bridge_write_all(c->fd, c->out.data, c->out.len, config.idle_timeout_ms, &written);
    c->out.len = 0;
    return status;
}

/* Appends a response of the connection; one that closes marks it closing. */
static void answer(connection* c, int status, const char* type, const void* body, size_t body_len, int close,
                   int http10) {
    respond(&c->out, status, type, body, body_len, close, http10 && !close);
    if (close) c->closing = 1;
}

/* Room for one more response; flushes what is there when it could not fit. */
static int reserve(connection* c) {
    if (c->out.data == NULL) {
        c->out.data = take_buffer(&T.send_pool, SEND_BUFFER_BYTES);
        if (c->out.data == NULL) return ACO_BRIDGE_ERROR;
    }
    return SEND_BUFFER_BYTES - c->out.len >= 256 ? ACO_BRIDGE_OK : flush(c);
}

/* Reads more of the request in progress, until its deadline. */
static int read_more(connection* c) {
    size_t n = 0;
    int status = aco_bridge_read(c->fd, c->in + c->in_len, receive_buffer_bytes() - c->in_len,
                                 ms_left(c->deadline), &n);
    c->in_len += n;
    return status;
}

/* Reads and drops `length` body bytes (some may be in the buffer already). */
static int skip_body(connection* c, int64_t length) {
    while (length > 0) {
        if (c->in_len == 0) {
            int status = read_more(c);
            if (status != ACO_BRIDGE_OK) return status;
        }
        size_t take = (int64_t)c->in_len < length ? c->in_len : (size_t)length;
        memmove(c->in, c->in + take, c->in_len - take);
        c->in_len -= take;
        length -= (int64_t)take;
    }
    return ACO_BRIDGE_OK;
}

/* After a response that closes: stop sending, and read and drop what the
 * client still sends, until it closes, 64 KiB, or 1 s, so that the close does
 * not reset the connection before the client has read the response. */
static NOINLINE void linger_and_close(connection* c) {
    shutdown(c->fd, SHUT_WR);
    int64_t budget = 64 * 1024;
    int64_t deadline = deadline_in(config.idle_timeout_ms < 1000 ? config.idle_timeout_ms : 1000);
    uint8_t sink[512];
    while (budget > 0) {
        size_t n = 0;
        if (aco_bridge_read(c->fd, sink, sizeof sink, ms_left(deadline), &n) != ACO_BRIDGE_OK) break;
        budget -= (int64_t)n;
    }
}

/* Whether the buffer holds another request's whole head (or a head that is refused). */
static int complete_head_buffered(const connection* c) {
    request_head next = {0};
    size_t consumed = 0;
    return c->in_len > 0 && parse_head(c->in, c->in_len, &next, &consumed) != HEAD_INCOMPLETE;
}

/* Answers every complete request in the buffer. Returns 1 to keep the
 * connection, 0 to close it (after the responses are flushed). */
static int answer_buffered(connection* c) {
    for (;;) {
        request_head h = {0};
        size_t consumed = 0;
        int result = parse_head(c->in, c->in_len, &h, &consumed);
        if (result == HEAD_INCOMPLETE) {
            memmove(c->in, c->in + consumed, c->in_len - consumed);
            c->in_len -= consumed;
            return 1;
        }
        if (reserve(c) != ACO_BRIDGE_OK) return 0;
        if (result != HEAD_COMPLETE) {
            answer(c, result, NULL, NULL, 0, 1, 0);
            c->in_len = 0;
            return 0;
        }
        memmove(c->in, c->in + consumed, c->in_len - consumed);
        c->in_len -= consumed;
        if (h.content_length > 0) {
            if (flush(c) != ACO_BRIDGE_OK) return 0; /* what came before goes first */
            int status = skip_body(c, h.content_length);
            if (status == ACO_BRIDGE_TIMEOUT) {
                answer(c, 408, NULL, NULL, 0, 1, 0);
                return 0;
            }
            if (status != ACO_BRIDGE_OK) return 0;
        }
        /* While the server stops, the last request received in full gets the last answer. */
        int close = !h.keep_alive || (T.draining && !complete_head_buffered(c));
        switch (h.route) {
        case ROUTE_PLAINTEXT:
            answer(c, 200, "text/plain", "Hello, World!", 13, close, h.http10);
            break;
        case ROUTE_JSON: {
            uint8_t body[128];
            uint32_t body_len = 0;
            if (aco_bridge_call(config.json_handler_id, NULL, 0, body, sizeof body, &body_len) != ACO_BRIDGE_OK)
                return 0;
            answer(c, 200, "application/json", body, body_len, close, h.http10);
            break;
        }
        default:
            answer(c, 404, NULL, NULL, 0, close, h.http10);
            break;
        }
        if (close) {
            c->in_len = 0;
            return 0;
        }
        if (c->in_len == 0) return 1;
    }
}

/* Serves the requests of one stretch of activity: from the first byte after
 * an idle wait until everything received is answered. Returns whether the
 * connection stays open. */
static NOINLINE int serve_requests(connection* c) {
    c->in_len = 0;
    c->deadline = deadline_in(config.idle_timeout_ms);
    /* The first read never waits: a readiness report can be stale (nothing to
     * read), and the connection then is still idle, holding no request the
     * stop would wait for. */
    ssize_t got = recv(c->fd, c->in, receive_buffer_bytes(), MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 1;
    if (got <= 0) return 0; /* the client's end, or a reset */
    c->in_len = (size_t)got;
    int status;
    for (;;) {
        if (!answer_buffered(c)) return 0;
        if (c->in_len == 0) {
            /* Everything received is answered. The idle wait that follows ends
             * on a new readiness report only, so the socket must be empty
             * first: a read may have left bytes, or the client's end, that
             * came with the report just used. */
            got = recv(c->fd, c->in, receive_buffer_bytes(), MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
            if (got == 0 || (got < 0 && errno != EINTR)) return 0;
            /* More came meanwhile (a client that never stops): its answers so
             * far go out, and the others of this thread get a turn first. */
            if (flush(c) != ACO_BRIDGE_OK || aco_bridge_yield() != ACO_BRIDGE_OK) return 0;
            c->in_len = got > 0 ? (size_t)got : 0;
            c->deadline = deadline_in(config.idle_timeout_ms);
            continue;
        }
        /* A request is half here: answers so far go first, then the rest of
         * it, before its deadline. The others of this thread get a turn
         * between reads: a client that always has more on the way would
         * otherwise never let the read wait. */
        if (flush(c) != ACO_BRIDGE_OK || aco_bridge_yield() != ACO_BRIDGE_OK) return 0;
        status = read_more(c);
        if (status == ACO_BRIDGE_TIMEOUT && reserve(c) == ACO_BRIDGE_OK) answer(c, 408, NULL, NULL, 0, 1, 0);
        if (status != ACO_BRIDGE_OK) return 0;
    }
}

/* The entry point: aco_get_arg() is the connection's descriptor, which the
 * coroutine owns and closes. */
BODY void aco_http_connection(void) {
    connection c = {.fd = (int)(intptr_t)aco_get_arg()};
    for (;;) {
        /* Idle: no buffer held, nothing half-read. */
        set_state(c.fd, CONN_IDLE);
        if (T.draining) break;
        if (aco_bridge_wait(c.fd, ACO_BRIDGE_POLL_IN, config.idle_timeout_ms, NULL) != ACO_BRIDGE_OK) break;
        set_state(c.fd, CONN_BUSY);
        c.in = take_buffer(&T.receive_pool, receive_buffer_bytes());
        if (c.in == NULL) break;
        int keep = serve_requests(&c);
        int flushed = flush(&c);
        give_buffer(&T.receive_pool, c.in);
        give_buffer(&T.send_pool, c.out.data);
        c.in = NULL;
        c.out.data = NULL;
        if (c.closing && flushed == ACO_BRIDGE_OK) linger_and_close(&c);
        if (!keep || c.closing || flushed != ACO_BRIDGE_OK) break;
    }
    set_state(c.fd, CONN_NONE);
    aco_bridge_close(c.fd);
}
