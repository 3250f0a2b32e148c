/* Socket calls of the bridge, driven by the C test scheduler: each call waits
 * only its coroutine; end of stream, reset, timeout, cancellation and a close
 * by another coroutine each come back as their own status; buffers on a share
 * stack that other coroutines use meanwhile arrive intact. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "aco_test_loop.h"

static test_loop L;

/* ---- helpers -------------------------------------------------------------------- */

static void socket_pair(int fds[2]) { CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0); }

/* A listening TCP socket on 127.0.0.1 at a free port; *addr receives its address. */
static int tcp_listener(struct sockaddr_in* addr, int backlog) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr*)addr, sizeof *addr) == 0);
    socklen_t len = sizeof *addr;
    CHECK(getsockname(fd, (struct sockaddr*)addr, &len) == 0);
    CHECK(listen(fd, backlog) == 0);
    return fd;
}

static int tcp_socket(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    return fd;
}

/* A connected pair over TCP loopback, connected without the loop. */
static void tcp_pair(int fds[2]) {
    struct sockaddr_in a;
    int l = tcp_listener(&a, 4);
    fds[0] = tcp_socket();
    CHECK(connect(fds[0], (struct sockaddr*)&a, sizeof a) == 0);
    fds[1] = accept(l, NULL, NULL);
    CHECK(fds[1] >= 0);
    close(l);
}

typedef void (*body_fn)(void);

static aco_task_t* spawn(body_fn fn, void* arg) { return aco_loop_spawn(L.loop, fn, arg, 0, 0); }

/* What a coroutine saw, for the test to check after the run. */
typedef struct {
    int fd;
    int64_t timeout_ms;
    int status;
    int err;
    size_t bytes;
    double waited; /* seconds */
    int done;
} outcome;

static void record(outcome* o, int status, double started) {
    o->status = status;
    o->err = status == ACO_BRIDGE_OK ? 0 : errno;
    o->waited = test_seconds() - started;
    o->done = 1;
}

static int is_done(void* o) { return ((outcome*)o)->done; }

static int waiting_on_sockets(void* n) { return L.stats->waiting_io >= *(int64_t*)n; }

/* ---- bodies --------------------------------------------------------------------- */

static void read_once(void) {
    outcome* o = aco_get_arg();
    char buf[64];
    double t0 = test_seconds();
    size_t n = 0;
    int status = aco_bridge_read(o->fd, buf, sizeof buf, o->timeout_ms, &n);
    o->bytes = n;
    record(o, status, t0);
}

static void write_once(void) {
    outcome* o = aco_get_arg();
    double t0 = test_seconds();
    size_t n = 0;
    int status = aco_bridge_write(o->fd, "hello", 5, o->timeout_ms, &n);
    o->bytes = n;
    record(o, status, t0);
}

/* Writes 1 MiB-sized blocks until the socket's buffer is full and the call waits. */
static void write_until_full(void) {
    outcome* o = aco_get_arg();
    static char block[1 << 20];
    double t0 = test_seconds();
    size_t total = 0, n = 0;
    int status;
    while ((status = aco_bridge_write_all(o->fd, block, sizeof block, o->timeout_ms, &n)) == ACO_BRIDGE_OK)
        total += n;
    o->bytes = total + n;
    record(o, status, t0);
}

static void accept_once(void) {
    outcome* o = aco_get_arg();
    double t0 = test_seconds();
    int s = -1;
    struct sockaddr_in peer;
    uint32_t peer_len = sizeof peer;
    int status = aco_bridge_accept(o->fd, &peer, &peer_len, o->timeout_ms, &s);
    if (status == ACO_BRIDGE_OK) {
        CHECK(s >= 0);
        CHECK_EQ(peer_len, sizeof peer);
        CHECK_EQ(peer.sin_family, AF_INET);
        CHECK_EQ(aco_bridge_close(s), ACO_BRIDGE_OK);
    } else {
        CHECK_EQ(s, -1);
    }
    record(o, status, t0);
}

static struct sockaddr_in connect_to;

static void connect_once(void) {
    outcome* o = aco_get_arg();
    double t0 = test_seconds();
    int status = aco_bridge_connect(o->fd, &connect_to, sizeof connect_to, o->timeout_ms);
    record(o, status, t0);
}

static void poll_in(void) {
    outcome* o = aco_get_arg();
    double t0 = test_seconds();
    int ready = -1;
    int status = aco_bridge_poll(o->fd, ACO_BRIDGE_POLL_IN, o->timeout_ms, &ready);
    o->bytes = (size_t)ready;
    record(o, status, t0);
}

static void close_fd(void) {
    outcome* o = aco_get_arg();
    record(o, aco_bridge_close(o->fd), test_seconds());
}

/* ---- tests ------------------------------------------------------------------------ */

/* Runs `fn` in one coroutine until it has recorded its outcome. */
static outcome run_one(body_fn fn, int fd, int64_t timeout_ms) {
    outcome o = {.fd = fd, .timeout_ms = timeout_ms};
    spawn(fn, &o);
    test_loop_run_until(&L, is_done, &o, 30);
    test_loop_run_until_live(&L, 0, 30);
    return o;
}

static void test_read_write_and_end_of_stream(void) {
    int fds[2];
    socket_pair(fds);
    outcome r = {.fd = fds[0], .timeout_ms = -1};
    spawn(read_once, &r); /* waits: nothing written yet */
    int64_t one = 1;
    test_loop_run_until(&L, waiting_on_sockets, &one, 30);
    outcome w = run_one(write_once, fds[1], -1);
    CHECK_EQ(w.status, ACO_BRIDGE_OK);
    CHECK_EQ(w.bytes, 5);
    test_loop_run_until(&L, is_done, &r, 30);
    CHECK_EQ(r.status, ACO_BRIDGE_OK);
    CHECK_EQ(r.bytes, 5);

    /* The peer closes: the end of the stream is its own status. */
    outcome c = run_one(close_fd, fds[1], -1);
    CHECK_EQ(c.status, ACO_BRIDGE_OK);
    outcome eof = run_one(read_once, fds[0], 1000);
    CHECK_EQ(eof.status, ACO_BRIDGE_CLOSED);
    CHECK_EQ(eof.bytes, 0);
    /* Writing to a closed connection is EPIPE, never a SIGPIPE. */
    outcome broken = run_one(write_once, fds[0], 1000);
    CHECK_EQ(broken.status, ACO_BRIDGE_ERROR);
    CHECK_EQ(broken.err, EPIPE);
    CHECK_EQ(run_one(close_fd, fds[0], -1).status, ACO_BRIDGE_OK);
}

static void test_timeouts_are_never_early(void) {
    int fds[2];
    socket_pair(fds);
    outcome r = run_one(read_once, fds[0], 30);
    CHECK_EQ(r.status, ACO_BRIDGE_TIMEOUT);
    CHECK_EQ(r.err, ETIMEDOUT);
    CHECK(r.waited >= 0.030);

    outcome p = run_one(poll_in, fds[0], 20);
    CHECK_EQ(p.status, ACO_BRIDGE_TIMEOUT);
    CHECK(p.waited >= 0.020);

    /* A full socket: the writer waits, then times out with what it wrote. */
    outcome w = run_one(write_until_full, fds[1], 30);
    CHECK_EQ(w.status, ACO_BRIDGE_TIMEOUT);
    CHECK(w.bytes > 0);

    struct sockaddr_in a;
    int l = tcp_listener(&a, 4);
    outcome acc = run_one(accept_once, l, 20);
    CHECK_EQ(acc.status, ACO_BRIDGE_TIMEOUT);
    CHECK(acc.waited >= 0.020);

    /* A listener whose accept queue is full drops new connection requests, so a
     * connect waits (Linux keeps the first connection, none after it). */
    int full = tcp_listener(&connect_to, 0);
    int first = tcp_socket();
    CHECK(connect(first, (struct sockaddr*)&connect_to, sizeof connect_to) == 0);
    int second = tcp_socket();
    outcome con = run_one(connect_once, second, 30);
    CHECK_EQ(con.status, ACO_BRIDGE_TIMEOUT);
    CHECK(con.waited >= 0.030);

    /* 0 asks once and does not wait. */
    int quiet[2];
    socket_pair(quiet);
    outcome now = run_one(read_once, quiet[0], 0);
    CHECK_EQ(now.status, ACO_BRIDGE_TIMEOUT);
    CHECK_EQ(run_one(close_fd, quiet[0], -1).status, ACO_BRIDGE_OK);
    close(quiet[1]);

    CHECK_EQ(run_one(close_fd, second, -1).status, ACO_BRIDGE_OK);
    close(first);
    close(full);
    CHECK_EQ(run_one(close_fd, l, -1).status, ACO_BRIDGE_OK);
    CHECK_EQ(run_one(close_fd, fds[0], -1).status, ACO_BRIDGE_OK);
    CHECK_EQ(run_one(close_fd, fds[1], -1).status, ACO_BRIDGE_OK);
}

/* Each call, blocked with no timeout, ends when its coroutine is cancelled. */
static void test_cancel_while_blocked_in_each_call(void) {
    int fds[2];
    socket_pair(fds);
    struct sockaddr_in a;
    int l = tcp_listener(&a, 4);
    int full = tcp_listener(&connect_to, 0);
    int first = tcp_socket();
    CHECK(connect(first, (struct sockaddr*)&connect_to, sizeof connect_to) == 0);
    int pending = tcp_socket();
    int writer_fds[2];
    socket_pair(writer_fds);

    struct {
        body_fn fn;
        int fd;
    } calls[] = {{read_once, fds[0]}, {poll_in, fds[0]}, {accept_once, l}, {connect_once, pending},
                 {write_until_full, writer_fds[0]}};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        outcome o = {.fd = calls[i].fd, .timeout_ms = -1};
        aco_task_t* t = spawn(calls[i].fn, &o);
        int64_t one = 1;
        test_loop_run_until(&L, waiting_on_sockets, &one, 30);
        CHECK_EQ(aco_loop_cancel(L.loop, t), 1);
        test_loop_run_until(&L, is_done, &o, 30);
        test_loop_run_until_live(&L, 0, 30);
        CHECK_EQ(o.status, ACO_BRIDGE_CANCELLED);
        CHECK_EQ(o.err, ECANCELED);
        CHECK_EQ(L.stats->waiting_io, 0);
    }
    /* A coroutine cancelled before it calls does not wait at all. */
    outcome o = {.fd = fds[0], .timeout_ms = -1};
    aco_task_t* t = spawn(read_once, &o);
    aco_loop_cancel(L.loop, t);
    test_loop_run_until(&L, is_done, &o, 30);
    CHECK_EQ(o.status, ACO_BRIDGE_CANCELLED);
    test_loop_run_until_live(&L, 0, 30);

    int to_close[] = {fds[0], fds[1], l, pending, writer_fds[0], writer_fds[1]};
    for (size_t i = 0; i < sizeof to_close / sizeof to_close[0]; i++)
        CHECK_EQ(run_one(close_fd, to_close[i], -1).status, ACO_BRIDGE_OK);
    close(first);
    close(full);
}

/* A close by another coroutine wakes the one waiting on the descriptor. */
static void test_close_wakes_a_waiter(void) {
    int fds[2];
    socket_pair(fds);
    outcome r = {.fd = fds[0], .timeout_ms = -1};
    spawn(read_once, &r);
    int64_t one = 1;
    test_loop_run_until(&L, waiting_on_sockets, &one, 30);
    CHECK_EQ(run_one(close_fd, fds[0], -1).status, ACO_BRIDGE_OK);
    test_loop_run_until(&L, is_done, &r, 30);
    CHECK_EQ(r.status, ACO_BRIDGE_ERROR);
    CHECK_EQ(r.err, EBADF);
    close(fds[1]);
}

static void test_reset(void) {
    int fds[2];
    tcp_pair(fds);
    /* Closing with a zero linger time resets the connection. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    CHECK(setsockopt(fds[1], SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    outcome r = {.fd = fds[0], .timeout_ms = 5000};
    spawn(read_once, &r);
    int64_t one = 1;
    test_loop_run_until(&L, waiting_on_sockets, &one, 30);
    close(fds[1]);
    test_loop_run_until(&L, is_done, &r, 30);
    CHECK_EQ(r.status, ACO_BRIDGE_ERROR);
    CHECK_EQ(r.err, ECONNRESET);
    test_loop_run_until_live(&L, 0, 30);
    CHECK_EQ(run_one(close_fd, fds[0], -1).status, ACO_BRIDGE_OK);
}

static char big_block[1 << 20];

static void write_big_once(void) {
    outcome* o = aco_get_arg();
    double t0 = test_seconds();
    size_t n = 0;
    int status = aco_bridge_write(o->fd, big_block, sizeof big_block, o->timeout_ms, &n);
    o->bytes = n;
    record(o, status, t0);
}

static void test_partial_write(void) {
    int fds[2];
    socket_pair(fds);
    int small = 4096;
    CHECK(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
    /* Nobody reads: write takes what fits and returns at once with that much. */
    outcome w = run_one(write_big_once, fds[0], 5000);
    CHECK_EQ(w.status, ACO_BRIDGE_OK);
    CHECK(w.bytes > 0 && w.bytes < sizeof big_block);
    CHECK_EQ(run_one(close_fd, fds[0], -1).status, ACO_BRIDGE_OK);
    CHECK_EQ(run_one(close_fd, fds[1], -1).status, ACO_BRIDGE_OK);
}

/* ---- 1 MiB through buffers on a busy share stack ---------------------------------- */

static size_t transfer_bytes;
static int transfer_fd[2];
static int transfer_ok;
static int busy_stop;

static unsigned char pattern(size_t i) { return (unsigned char)(i * 31 + i / 251); }

static void busy(void) {
    while (!busy_stop) aco_bridge_yield();
}

/* The buffers live on the coroutines' stacks, which share one share stack
 * with busy coroutines: each wait copies them out and back. */
__attribute__((noinline)) static void sender(void) {
    unsigned char buf[64 * 1024];
    size_t sent = 0;
    while (sent < transfer_bytes) {
        size_t n = transfer_bytes - sent < sizeof buf ? transfer_bytes - sent : sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = pattern(sent + i);
        size_t written = 0;
        CHECK_EQ(aco_bridge_write_all(transfer_fd[0], buf, n, 30000, &written), ACO_BRIDGE_OK);
        CHECK_EQ(written, n);
        sent += n;
    }
    CHECK_EQ(aco_bridge_shutdown(transfer_fd[0], 1), ACO_BRIDGE_OK);
}

__attribute__((noinline)) static void receiver(void) {
    unsigned char buf[16 * 1024];
    size_t got = 0, n = 0;
    int status;
    while ((status = aco_bridge_read(transfer_fd[1], buf, sizeof buf, 30000, &n)) == ACO_BRIDGE_OK) {
        for (size_t i = 0; i < n; i++)
            if (buf[i] != pattern(got + i)) {
                fprintf(stderr, "byte %zu differs\n", got + i);
                CHECK(0);
            }
        got += n;
    }
    CHECK_EQ(status, ACO_BRIDGE_CLOSED);
    CHECK_EQ(got, transfer_bytes);
    transfer_ok = 1;
    busy_stop = 1;
}

static void test_transfer_on_a_busy_share_stack(void) {
    test_loop big;
    test_loop saved = L;
    test_loop_init(&big, 1, 4 << 20); /* one stack: every switch copies */
    L = big;
    tcp_pair(transfer_fd);
    transfer_bytes = 1 << 20;
    for (int i = 0; i < 3; i++) spawn(busy, NULL);
    spawn(sender, NULL);
    spawn(receiver, NULL);
    test_loop_run_until_live(&L, 0, 120);
    CHECK(transfer_ok);
    CHECK_EQ(L.ended_failed, 0);
    close(transfer_fd[0]);
    close(transfer_fd[1]);
    test_loop_free(&L);
    L = saved;
}

/* ---- many connections, accepted and echoed ----------------------------------------- */

static struct sockaddr_in echo_addr;
static int echo_listener;
static int echo_served;

static void echo_connection(void) {
    int fd = (int)(intptr_t)aco_get_arg();
    char buf[256];
    size_t n = 0;
    while (aco_bridge_read(fd, buf, sizeof buf, 10000, &n) == ACO_BRIDGE_OK) {
        size_t w = 0;
        if (aco_bridge_write_all(fd, buf, n, 10000, &w) != ACO_BRIDGE_OK) break;
    }
    aco_bridge_close(fd);
    echo_served++;
}

static void echo_acceptor(void) {
    int want = (int)(intptr_t)aco_get_arg();
    for (int i = 0; i < want; i++) {
        int s = -1;
        CHECK_EQ(aco_bridge_accept(echo_listener, NULL, NULL, 10000, &s), ACO_BRIDGE_OK);
        CHECK_EQ(aco_bridge_spawn(echo_connection, (void*)(intptr_t)s), ACO_BRIDGE_OK); /* a coroutine per connection */
    }
}

static void echo_client(void) {
    int id = (int)(intptr_t)aco_get_arg();
    int fd = tcp_socket();
    CHECK_EQ(aco_bridge_connect(fd, &echo_addr, sizeof echo_addr, 10000), ACO_BRIDGE_OK);
    char msg[32], back[32];
    int len = snprintf(msg, sizeof msg, "client %d", id);
    size_t n = 0, got = 0;
    CHECK_EQ(aco_bridge_write_all(fd, msg, (size_t)len, 10000, &n), ACO_BRIDGE_OK);
    while (got < (size_t)len) {
        CHECK_EQ(aco_bridge_read(fd, back + got, (size_t)len - got, 10000, &n), ACO_BRIDGE_OK);
        got += n;
    }
    CHECK(memcmp(msg, back, (size_t)len) == 0);
    CHECK_EQ(aco_bridge_close(fd), ACO_BRIDGE_OK);
}

static void test_many_connections(void) {
    int clients = 200 / test_slow_divisor() + 2;
    echo_listener = tcp_listener(&echo_addr, 512);
    echo_served = 0;
    spawn(echo_acceptor, (void*)(intptr_t)clients);
    for (int i = 0; i < clients; i++) spawn(echo_client, (void*)(intptr_t)i);
    int64_t spawned_before = L.stats->spawned;
    test_loop_run_until_live(&L, 0, 120);
    CHECK_EQ(echo_served, clients);
    CHECK_EQ(L.stats->spawned - spawned_before, clients);
    CHECK_EQ(L.ended_failed, 0);
    CHECK_EQ(run_one(close_fd, echo_listener, -1).status, ACO_BRIDGE_OK);
}

static void test_poll_reports_readiness(void) {
    int fds[2];
    socket_pair(fds);
    outcome p = {.fd = fds[0], .timeout_ms = 10000};
    spawn(poll_in, &p);
    int64_t one = 1;
    test_loop_run_until(&L, waiting_on_sockets, &one, 30);
    CHECK(write(fds[1], "x", 1) == 1);
    test_loop_run_until(&L, is_done, &p, 30);
    CHECK_EQ(p.status, ACO_BRIDGE_OK);
    CHECK_EQ(p.bytes, ACO_BRIDGE_POLL_IN);
    test_loop_run_until_live(&L, 0, 30);
    CHECK_EQ(run_one(close_fd, fds[0], -1).status, ACO_BRIDGE_OK);
    close(fds[1]);
}

static void wait_in(void) {
    outcome* o = aco_get_arg();
    double t0 = test_seconds();
    int ready = 0;
    int status = aco_bridge_wait(o->fd, ACO_BRIDGE_POLL_IN, o->timeout_ms, &ready);
    o->bytes = (size_t)ready;
    record(o, status, t0);
}

static void spawn_after_cancel(void) {
    outcome* o = aco_get_arg();
    while (!aco_bridge_is_cancelled()) aco_bridge_yield();
    record(o, aco_bridge_spawn(busy, NULL), test_seconds());
}

/* aco_bridge_wait waits for a readiness report without asking first; a
 * cancelled coroutine starts nothing new. */
static void test_wait_and_spawn(void) {
    int fds[2];
    socket_pair(fds);
    outcome w = {.fd = fds[0], .timeout_ms = 10000};
    spawn(wait_in, &w);
    int64_t one = 1;
    test_loop_run_until(&L, waiting_on_sockets, &one, 30);
    CHECK(write(fds[1], "x", 1) == 1);
    test_loop_run_until(&L, is_done, &w, 30);
    CHECK_EQ(w.status, ACO_BRIDGE_OK);
    CHECK_EQ(w.bytes, ACO_BRIDGE_POLL_IN);
    char c;
    CHECK(read(fds[0], &c, 1) == 1);
    outcome quiet = run_one(wait_in, fds[0], 20);
    CHECK_EQ(quiet.status, ACO_BRIDGE_TIMEOUT);
    CHECK(quiet.waited >= 0.020);
    outcome s = {.timeout_ms = -1};
    aco_task_t* t = spawn(spawn_after_cancel, &s);
    test_loop_turn(&L);
    aco_loop_cancel(L.loop, t);
    test_loop_run_until(&L, is_done, &s, 30);
    CHECK_EQ(s.status, ACO_BRIDGE_CANCELLED);
    test_loop_run_until_live(&L, 0, 30);
    CHECK_EQ(run_one(close_fd, fds[0], -1).status, ACO_BRIDGE_OK);
    close(fds[1]);
}

static void test_bad_descriptors(void) {
    outcome r = run_one(read_once, -1, 10);
    CHECK_EQ(r.status, ACO_BRIDGE_ERROR);
    CHECK_EQ(r.err, EBADF);
    int fds[2];
    socket_pair(fds);
    close(fds[0]);
    close(fds[1]);
    outcome closed = run_one(read_once, fds[0], 10);
    CHECK_EQ(closed.status, ACO_BRIDGE_ERROR);
    CHECK_EQ(closed.err, EBADF);
}

int main(void) {
    test_loop_init(&L, 2, 256 * 1024);
    test_read_write_and_end_of_stream();
    test_timeouts_are_never_early();
    test_cancel_while_blocked_in_each_call();
    test_close_wakes_a_waiter();
    test_reset();
    test_partial_write();
    test_poll_reports_readiness();
    test_bad_descriptors();
    test_wait_and_spawn();
    test_many_connections();
    test_transfer_on_a_busy_share_stack();
    CHECK_EQ(L.stats->live, 0);
    test_loop_free(&L);
    test_check_counters_zero();
    puts("sockets: ok");
    return 0;
}
