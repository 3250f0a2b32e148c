/*
 * idle_client: holds N idle keep-alive HTTP/1.1 connections open against one server, so that the
 * server's memory per idle connection can be read from outside (bench/http/run.sh).
 *
 *   idle_client [-t SECONDS] [-w WINDOW] [-s SOURCES] HOST PORT N
 *
 * Opens N connections to HOST:PORT (IPv4, numeric) with non-blocking connects driven by one epoll
 * loop, sends one "GET /plaintext" on each and reads its response to the end (Content-Length or
 * chunked). At most WINDOW connections are in their handshake or request at once, so the server's
 * accept backlog never overflows into SYN retries. Once all N have been answered it prints "idle N"
 * and keeps them open and silent until standard input reaches end-of-file or SIGTERM/SIGINT/SIGHUP
 * arrives (exit 0). Any failure, a timeout of the set-up (-t), a non-200 answer, a server that closes
 * a connection or sends anything while it should be idle: a message on stderr and exit 1.
 *
 * A loopback connection's source port comes from the ephemeral range (about 28000 ports), so past
 * 16000 connections to a 127.x address they are spread over SOURCES source addresses 127.0.0.1,
 * 127.0.0.2, ... (each with IP_BIND_ADDRESS_NO_PORT, which leaves the port to connect()).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    CONNECTIONS_PER_SOURCE = 16000, /* well under the ~28000 ports of the default ephemeral range */
    HEADER_MAX = 8192,              /* a response head larger than this is an error */
    READ_BUFFER = 65536,
    EVENTS = 512,
};

/* epoll data for the two descriptors that are not connections. */
static const uint64_t TAG_STDIN = UINT64_MAX;
static const uint64_t TAG_SIGNAL = UINT64_MAX - 1;

static const char REQUEST[] = "GET /plaintext HTTP/1.1\r\nHost: %s:%d\r\n\r\n";

enum conn_state { C_CONNECTING, C_READING_HEAD, C_READING_BODY, C_IDLE };

/* Where a chunked body's decoder stands. */
enum chunk_state { K_SIZE, K_SIZE_EXT, K_SIZE_LF, K_DATA, K_DATA_CR, K_DATA_LF, K_TRAILER_START,
                   K_TRAILER_LINE, K_TRAILER_LF, K_FINAL_LF, K_DONE };

struct conn {
    int fd;
    enum conn_state state;
    char *head;        /* response head so far (only while reading it) */
    size_t head_len;
    bool chunked;
    long long body_left;   /* Content-Length bytes still to come */
    enum chunk_state chunk;
    long long chunk_left;  /* data bytes left in the current chunk */
    bool chunk_digits;     /* the size line had at least one hex digit */
};

static struct conn *conns;
static int epfd;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("idle_client: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_long(const char *text, long min, long max, const char *what)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
        fail("bad %s '%s' (expected %ld..%ld)", what, text, min, max);
    return value;
}

static void watch(int fd, uint32_t events, uint64_t tag, int op)
{
    struct epoll_event ev = { .events = events, .data.u64 = tag };
    if (epoll_ctl(epfd, op, fd, &ev) != 0)
        fail("epoll_ctl: %s", strerror(errno));
}

/* Starts connection i's non-blocking connect. */
static void start_connect(long i, const struct sockaddr_in *server, long sources)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("connection %ld: socket: %s", i, strerror(errno));
    if (sources > 1) {
        int one = 1;
        if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0)
            fail("connection %ld: IP_BIND_ADDRESS_NO_PORT: %s", i, strerror(errno));
        struct sockaddr_in source = { .sin_family = AF_INET,
                                      .sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(i % sources)) };
        if (bind(fd, (const struct sockaddr *)&source, sizeof source) != 0)
            fail("connection %ld: bind to a loopback source address: %s", i, strerror(errno));
    }
    if (connect(fd, (const struct sockaddr *)server, sizeof *server) != 0 && errno != EINPROGRESS)
        fail("connection %ld: connect: %s", i, strerror(errno));
    conns[i] = (struct conn){ .fd = fd, .state = C_CONNECTING };
    watch(fd, EPOLLOUT, (uint64_t)i, EPOLL_CTL_ADD);
}

/* The connect finished: check its outcome, send the request (a few dozen bytes fit any socket buffer). */
static void on_connected(long i, const char *request, size_t request_len)
{
    struct conn *c = &conns[i];
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
        error = errno;
    if (error != 0)
        fail("connection %ld: connect: %s", i, strerror(error));
    ssize_t sent = send(c->fd, request, request_len, MSG_NOSIGNAL);
    if (sent != (ssize_t)request_len)
        fail("connection %ld: send: %s", i, sent < 0 ? strerror(errno) : "short write");
    c->head = malloc(HEADER_MAX);
    if (c->head == NULL)
        fail("out of memory");
    c->head_len = 0;
    c->state = C_READING_HEAD;
    watch(c->fd, EPOLLIN | EPOLLRDHUP, (uint64_t)i, EPOLL_CTL_MOD);
}

/* Finds header `name` (case-insensitive) in a NUL-terminated response head; returns its value or NULL. */
static const char *header_value(const char *head, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *value = line + name_len + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            return value;
        }
    }
    return NULL;
}

static bool value_starts(const char *value, const char *word)
{
    return value != NULL && strncasecmp(value, word, strlen(word)) == 0;
}

/* Checks the complete head (NUL-terminated) and sets up the body's framing. */
static void on_head(long i, struct conn *c)
{
    if (strncmp(c->head, "HTTP/1.1 200 ", 13) != 0) {
        char *eol = strstr(c->head, "\r\n");
        if (eol != NULL)
            *eol = '\0';
        fail("connection %ld: expected 'HTTP/1.1 200', got '%s'", i, c->head);
    }
    if (value_starts(header_value(c->head, "Connection"), "close"))
        fail("connection %ld: the server answered 'Connection: close' to a keep-alive request", i);
    const char *encoding = header_value(c->head, "Transfer-Encoding");
    const char *length = header_value(c->head, "Content-Length");
    if (value_starts(encoding, "chunked")) {
        c->chunked = true;
        c->chunk = K_SIZE;
        c->chunk_left = 0;
        c->chunk_digits = false;
    } else if (length != NULL) {
        c->chunked = false;
        c->body_left = strtoll(length, NULL, 10);
        if (c->body_left < 0)
            fail("connection %ld: bad Content-Length", i);
    } else {
        fail("connection %ld: response has neither Content-Length nor chunked encoding", i);
    }
    free(c->head);
    c->head = NULL;
    c->state = C_READING_BODY;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Feeds body bytes; returns how many belong to this response (the rest would be stray data). */
static size_t on_body(long i, struct conn *c, const char *data, size_t len)
{
    if (!c->chunked) {
        size_t take = (long long)len < c->body_left ? len : (size_t)c->body_left;
        c->body_left -= (long long)take;
        return take;
    }
    size_t at = 0;
    while (at < len && c->chunk != K_DONE) {
        char ch = data[at];
        switch (c->chunk) {
        case K_SIZE: {
            int digit = hex_digit(ch);
            if (digit >= 0) {
                if (c->chunk_left > (1LL << 40))
                    fail("connection %ld: chunk size too large", i);
                c->chunk_left = c->chunk_left * 16 + digit;
                c->chunk_digits = true;
                at++;
                break;
            }
            if (!c->chunk_digits)
                fail("connection %ld: bad chunk size line", i);
            c->chunk = ch == '\r' ? K_SIZE_LF : K_SIZE_EXT;
            at++;
            break;
        }
        case K_SIZE_EXT: /* chunk extensions are skipped up to the line's end */
            if (ch == '\r')
                c->chunk = K_SIZE_LF;
            at++;
            break;
        case K_SIZE_LF:
            if (ch != '\n')
                fail("connection %ld: bad chunk size line ending", i);
            at++;
            c->chunk = c->chunk_left == 0 ? K_TRAILER_START : K_DATA;
            break;
        case K_DATA: {
            size_t take = (long long)(len - at) < c->chunk_left ? len - at : (size_t)c->chunk_left;
            c->chunk_left -= (long long)take;
            at += take;
            if (c->chunk_left == 0)
                c->chunk = K_DATA_CR;
            break;
        }
        case K_DATA_CR:
            if (ch != '\r')
                fail("connection %ld: chunk data not followed by CRLF", i);
            c->chunk = K_DATA_LF;
            at++;
            break;
        case K_DATA_LF:
            if (ch != '\n')
                fail("connection %ld: chunk data not followed by CRLF", i);
            c->chunk = K_SIZE;
            c->chunk_digits = false;
            at++;
            break;
        case K_TRAILER_START: /* an empty line ends the body; anything else is a trailer field */
            c->chunk = ch == '\r' ? K_FINAL_LF : K_TRAILER_LINE;
            at++;
            break;
        case K_TRAILER_LINE:
            if (ch == '\r')
                c->chunk = K_TRAILER_LF;
            at++;
            break;
        case K_TRAILER_LF:
            if (ch != '\n')
                fail("connection %ld: bad trailer line ending", i);
            c->chunk = K_TRAILER_START;
            at++;
            break;
        case K_FINAL_LF:
            if (ch != '\n')
                fail("connection %ld: bad line ending after the last chunk", i);
            c->chunk = K_DONE;
            at++;
            break;
        case K_DONE:
            break;
        }
    }
    return at;
}

static bool response_done(const struct conn *c)
{
    return c->chunked ? c->chunk == K_DONE : c->body_left == 0;
}

/* Reads what the server sent on connection i; returns true when its response is complete. */
static bool on_readable(long i, char *buffer)
{
    struct conn *c = &conns[i];
    for (;;) {
        ssize_t got = recv(c->fd, buffer, READ_BUFFER, 0);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return false;
            if (errno == EINTR)
                continue;
            fail("connection %ld: recv: %s", i, strerror(errno));
        }
        if (got == 0)
            fail("connection %ld: the server closed it before its response was complete", i);
        size_t at = 0, n = (size_t)got;
        if (c->state == C_READING_HEAD) {
            size_t room = HEADER_MAX - 1 - c->head_len;
            size_t take = n < room ? n : room;
            memcpy(c->head + c->head_len, buffer, take);
            c->head_len += take;
            c->head[c->head_len] = '\0';
            char *end = strstr(c->head, "\r\n\r\n");
            if (end == NULL) {
                if (c->head_len == HEADER_MAX - 1)
                    fail("connection %ld: response head longer than %d bytes", i, HEADER_MAX);
                continue;
            }
            size_t head_bytes = (size_t)(end + 4 - c->head);
            /* Bytes of this read that came after the head: the start of the body. */
            at = take - (c->head_len - head_bytes);
            end[2] = '\0';
            on_head(i, c);
        }
        at += on_body(i, c, buffer + at, n - at);
        if (response_done(c)) {
            if (at != n)
                fail("connection %ld: %zu bytes after the response", i, n - at);
            return true;
        }
    }
}

/* Connection i sent something while idle: a close (expected only after idle ends) or stray bytes. */
static void on_idle_event(long i, uint32_t events)
{
    char byte;
    ssize_t got = recv(conns[i].fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got == 0 || (events & (EPOLLRDHUP | EPOLLHUP)) != 0)
        fail("connection %ld: the server closed it while it was idle", i);
    if (got > 0)
        fail("connection %ld: the server sent data on an idle connection", i);
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        fail("connection %ld: %s while idle", i, strerror(errno));
}

static void usage(void)
{
    fputs("usage: idle_client [-t SECONDS] [-w WINDOW] [-s SOURCES] HOST PORT N\n"
          "  -t  bound on setting up all N connections (default 120)\n"
          "  -w  connections in their handshake or request at once (default 128)\n"
          "  -s  loopback source addresses to spread over (default: one per 16000 connections)\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    long timeout = 120, window = 128, sources = 0;
    int opt;
    while ((opt = getopt(argc, argv, "t:w:s:")) != -1) {
        switch (opt) {
        case 't': timeout = parse_long(optarg, 1, 3600, "timeout"); break;
        case 'w': window = parse_long(optarg, 1, 1000000, "window"); break;
        case 's': sources = parse_long(optarg, 1, 250, "source count"); break;
        default: usage();
        }
    }
    if (argc - optind != 3)
        usage();
    const char *host = argv[optind];
    long port = parse_long(argv[optind + 1], 1, 65535, "port");
    long n = parse_long(argv[optind + 2], 1, 10000000, "connection count");

    struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1)
        fail("HOST must be a numeric IPv4 address, got '%s'", host);
    bool loopback = (ntohl(server.sin_addr.s_addr) >> 24) == 127;
    if (sources == 0)
        sources = loopback ? n / CONNECTIONS_PER_SOURCE + 1 : 1;
    if (sources > 1 && !loopback)
        fail("-s needs a loopback (127.x) server address");

    /* N sockets plus stdio, epoll and signalfd. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &files);
    }
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
        files.rlim_cur < (rlim_t)n + 16)
        fail("%ld connections need %ld descriptors; the limit is %llu (ulimit -n)", n, n + 16,
             (unsigned long long)files.rlim_cur);

    char request[256];
    int request_len = snprintf(request, sizeof request, REQUEST, host, (int)port);

    conns = calloc((size_t)n, sizeof *conns);
    char *buffer = malloc(READ_BUFFER);
    struct epoll_event *events = malloc(EVENTS * sizeof *events);
    if (conns == NULL || buffer == NULL || events == NULL)
        fail("out of memory");
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        fail("epoll_create1: %s", strerror(errno));

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &stop_signals, NULL) != 0)
        fail("sigprocmask: %s", strerror(errno));
    int sigfd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigfd < 0)
        fail("signalfd: %s", strerror(errno));
    watch(sigfd, EPOLLIN, TAG_SIGNAL, EPOLL_CTL_ADD);
    /* A regular file or /dev/null cannot be watched (EPERM): then only a signal ends the wait. */
    struct epoll_event stdin_ev = { .events = EPOLLIN, .data.u64 = TAG_STDIN };
    (void)epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &stdin_ev);

    long started = 0, answered = 0, active = 0;
    double deadline = now_seconds() + (double)timeout;
    bool announced = false;
    for (;;) {
        while (started < n && active < window) {
            start_connect(started++, &server, sources);
            active++;
        }
        if (!announced && answered == n) {
            printf("idle %ld\n", n);
            fflush(stdout);
            announced = true;
        }
        int wait_ms = -1;
        if (!announced) {
            double left = deadline - now_seconds();
            if (left <= 0)
                fail("timed out after %ld s: %ld of %ld connections answered, %ld in progress", timeout,
                     answered, n, active);
            wait_ms = (int)(left * 1000) + 1;
        }
        int ready = epoll_wait(epfd, events, EVENTS, wait_ms);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            fail("epoll_wait: %s", strerror(errno));
        }
        for (int e = 0; e < ready; e++) {
            uint64_t tag = events[e].data.u64;
            if (tag == TAG_SIGNAL) {
                if (!announced)
                    fail("stopped by a signal with %ld of %ld connections answered", answered, n);
                goto done;
            }
            if (tag == TAG_STDIN) {
                ssize_t got = read(STDIN_FILENO, buffer, READ_BUFFER);
                if (got > 0 || (got < 0 && (errno == EAGAIN || errno == EINTR)))
                    continue;
                if (!announced)
                    fail("standard input closed with %ld of %ld connections answered", answered, n);
                goto done;
            }
            long i = (long)tag;
            struct conn *c = &conns[i];
            if (c->state == C_CONNECTING) {
                on_connected(i, request, (size_t)request_len);
            } else if (c->state == C_IDLE) {
                on_idle_event(i, events[e].events);
            } else if (on_readable(i, buffer)) {
                c->state = C_IDLE;
                answered++;
                active--;
            }
        }
    }
done:
    for (long i = 0; i < n; i++)
        close(conns[i].fd);
    close(sigfd);
    close(epfd);
    free(events);
    free(buffer);
    free(conns);
    return 0;
}
