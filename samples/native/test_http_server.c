/* The native HTTP server's parser and connection coroutine (aco_http_server.c,
 * compiled into this test so its internal functions can be called): valid,
 * malformed and oversized heads get the status the README states, random
 * input never reads out of bounds (run under ASan+UBSan and valgrind too), and
 * a connection driven through the C test scheduler answers pipelined requests
 * in order and closes after a refusal. */
#include "aco_http_server.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "aco_test_loop.h"

static int parse(const char* text, size_t len, request_head* h, size_t* consumed) {
    /* A heap copy of exactly len bytes: ASan and valgrind see any read past it. */
    uint8_t* copy = malloc(len == 0 ? 1 : len);
    CHECK(copy != NULL);
    memcpy(copy, text, len);
    int result = parse_head(copy, len, h, consumed);
    free(copy);
    return result;
}

static int parse_text(const char* text) {
    request_head h = {0};
    size_t consumed = 0;
    return parse(text, strlen(text), &h, &consumed);
}

static void test_valid_heads(void) {
    request_head h = {0};
    size_t consumed = 0;
    const char* get = "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";
    CHECK_EQ(parse(get, strlen(get), &h, &consumed), HEAD_COMPLETE);
    CHECK_EQ(consumed, strlen(get));
    CHECK_EQ(h.route, ROUTE_PLAINTEXT);
    CHECK_EQ(h.keep_alive, 1);
    CHECK_EQ(h.content_length, 0);

    const char* pipelined = "\r\n\r\nGET /json HTTP/1.1\r\nhOsT:t\r\nConnection: keep-alive, CLOSE\r\n\r\nGET /x HTTP/1.1\r\n";
    CHECK_EQ(parse(pipelined, strlen(pipelined), &h, &consumed), HEAD_COMPLETE);
    CHECK_EQ(consumed, strlen(pipelined) - strlen("GET /x HTTP/1.1\r\n"));
    CHECK_EQ(h.route, ROUTE_JSON);
    CHECK_EQ(h.keep_alive, 0);

    const char* http10 = "GET /plaintext HTTP/1.0\r\n\r\n";
    CHECK_EQ(parse(http10, strlen(http10), &h, &consumed), HEAD_COMPLETE);
    CHECK_EQ(h.http10, 1);
    CHECK_EQ(h.keep_alive, 0);
    CHECK_EQ(parse_text("GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), HEAD_COMPLETE);

    const char* post = "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\nX-Tab:\t v \t\r\nX-Obs: caf\xe9\r\n\r\n";
    CHECK_EQ(parse(post, strlen(post), &h, &consumed), HEAD_COMPLETE);
    CHECK_EQ(h.route, ROUTE_NOT_FOUND);
    CHECK_EQ(h.content_length, 1048576);

    /* Every proper prefix of a head is incomplete, never an error. */
    for (size_t n = 0; n < strlen(get); n++) CHECK_EQ(parse(get, n, &h, &consumed), HEAD_INCOMPLETE);
}

static void test_malformed_heads_get_400(void) {
    static const char* const malformed[] = {
        "GET /plaintext\r\nHost: t\r\n\r\n",
        "GET HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET  /plaintext HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /plain text HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /plaintext HTTP/1.1 \r\nHost: t\r\n\r\n",
        "GET /plaintext HTTP/1.2\r\nHost: t\r\n\r\n",
        "GET /plaintext http/1.1\r\nHost: t\r\n\r\n",
        "G@T /plaintext HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /plain\x01text HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /pl\xe4intext HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /plaintext HTTP/1.1\nHost: t\n\n",
        "GET /plaintext HTTP/1.1\r\nHost: t\n\r\n",
        "GET /plaintext HTTP/1.1\r\nHost: t\rX\r\n\r\n",
        "GET /plaintext HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n",
        "GET /plaintext HTTP/1.1\r\nHost : t\r\n\r\n",
        "GET /plaintext HTTP/1.1\r\nHost: t\r\n: value\r\n\r\n",
        "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n",
        "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 12a\r\n\r\n",
        "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: +1\r\n\r\n",
        "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: \r\n\r\n",
        "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\n",
        "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n",
        "GET /plaintext HTTP/1.1\r\n\r\n",
        "GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "hello world\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        int result = parse_text(malformed[i]);
        if (result != 400) fprintf(stderr, "case %zu: %d\n", i, result);
        CHECK_EQ(result, 400);
    }
    /* A NUL in a value (strlen would stop at it). */
    static const char nul[] = "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n";
    request_head h = {0};
    size_t consumed = 0;
    CHECK_EQ(parse(nul, sizeof nul - 1, &h, &consumed), 400);
    /* A bare LF is refused as soon as it arrives, before the head is complete. */
    CHECK_EQ(parse_text("GET /plaintext HTTP/1.1\n"), 400);
}

static void test_limits(void) {
    /* Heads of exactly the limit pass; one byte more is 431, complete or not. */
    static char head[70000];
    const char* prefix = "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Pad: ";
    size_t n = strlen(prefix);
    memcpy(head, prefix, n);
    memset(head + n, 'p', 8192 - n - 4);
    memcpy(head + 8192 - 4, "\r\n\r\n", 4);
    request_head h = {0};
    size_t consumed = 0;
    CHECK_EQ(parse(head, 8192, &h, &consumed), HEAD_COMPLETE);
    CHECK_EQ(consumed, 8192);
    memset(head + n, 'p', 8193 - n - 4);
    memcpy(head + 8193 - 4, "\r\n\r\n", 4);
    CHECK_EQ(parse(head, 8193, &h, &consumed), 431);
    /* A line that never ends: 431 once the buffer holds more than a head may have. */
    memset(head, 'a', sizeof head);
    memcpy(head, "GET /", 5);
    CHECK_EQ(parse(head, 8191, &h, &consumed), HEAD_INCOMPLETE);
    CHECK_EQ(parse(head, 8192, &h, &consumed), 431);
    CHECK_EQ(parse(head, sizeof head, &h, &consumed), 431);

    CHECK_EQ(parse_text("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n"), 413);
    CHECK_EQ(parse_text("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 413);
    CHECK_EQ(parse_text("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);

    /* The limits follow the configuration. */
    config.max_head_bytes = 100;
    config.max_body_bytes = 10;
    CHECK_EQ(parse_text("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n"), 413);
    CHECK_EQ(parse_text("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n"), HEAD_COMPLETE);
    memset(head + n, 'p', 101 - n - 4);
    memcpy(head, prefix, n);
    memcpy(head + 101 - 4, "\r\n\r\n", 4);
    CHECK_EQ(parse(head, 101, &h, &consumed), 431);
    config.max_head_bytes = 8192;
    config.max_body_bytes = 1 << 20;
}

/* Random bytes, and valid heads with random damage: any result but a crash or
 * an overread (the sanitizers and valgrind watch), and consumed within bounds. */
static void test_random_input(void) {
    uint64_t state = 0x9e3779b97f4a7c15ull;
    const char* valid = "GET /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\n";
    static const char alphabet[] = "GET /:\r\n\t ,HTTP1.0aZ\x01\x7f\x80\xff-Content-Length";
    uint8_t buffer[512];
    int rounds = 200000 / test_slow_divisor();
    for (int round = 0; round < rounds; round++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        size_t len = (size_t)(state % sizeof buffer);
        if (round % 2 == 0) {
            for (size_t i = 0; i < len; i++) {
                state ^= state << 13, state ^= state >> 7, state ^= state << 17;
                buffer[i] = (uint8_t)alphabet[state % (sizeof alphabet - 1)];
            }
        } else {
            len = strlen(valid);
            memcpy(buffer, valid, len);
            for (int k = 0; k < 3; k++) {
                state ^= state << 13, state ^= state >> 7, state ^= state << 17;
                buffer[state % len] = (uint8_t)(state >> 32);
            }
        }
        request_head h = {0};
        size_t consumed = 0;
        int result = parse((const char*)buffer, len, &h, &consumed);
        CHECK(result == HEAD_COMPLETE || result == HEAD_INCOMPLETE || result == 400 || result == 413 ||
              result == 431 || result == 501);
        CHECK(consumed <= len);
    }
}

/* ---- a connection through the C test scheduler ---------------------------------- */

static test_loop L;

/* A loopback TCP connection: fds[0] the server's end, fds[1] the client's.
 * (TCP, not a socket pair: a Unix socket reports every edge with all its
 * readiness, which would hide a wait for a report that already came.) */
static void tcp_pair(int fds[2]) {
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(listener >= 0);
    CHECK(bind(listener, (struct sockaddr*)&address, sizeof address) == 0);
    CHECK(listen(listener, 1) == 0);
    CHECK(getsockname(listener, (struct sockaddr*)&address, &length) == 0);
    fds[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fds[1] >= 0);
    CHECK(connect(fds[1], (struct sockaddr*)&address, sizeof address) == 0);
    fds[0] = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    CHECK(fds[0] >= 0);
    close(listener);
}

/* Writes `request`, ends the client's side, runs the connection to its end,
 * and returns everything it answered (malloc'd, NUL-terminated). */
static char* exchange(const char* request, size_t len) {
    int fds[2];
    tcp_pair(fds);
    int sndbuf = 1 << 20;
    CHECK(setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) == 0);
    CHECK(aco_loop_spawn(L.loop, aco_http_connection, (void*)(intptr_t)fds[0], 0, 0) != NULL);
    size_t sent = 0;
    while (sent < len) { /* the connection reads while the client writes */
        ssize_t n = send(fds[1], request + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) sent += (size_t)n;
        else if (errno == EAGAIN) test_loop_turn(&L);
        else break; /* the server closed after a refusal */
    }
    shutdown(fds[1], SHUT_WR);
    size_t capacity = 1 << 20, got = 0;
    char* answer = malloc(capacity + 1);
    CHECK(answer != NULL);
    double until = test_seconds() + 30;
    for (;;) {
        test_loop_turn(&L);
        CHECK(test_seconds() <= until); /* the connection neither answered nor closed */
        ssize_t n = recv(fds[1], answer + got, capacity - got, MSG_DONTWAIT);
        if (n > 0) {
            got += (size_t)n;
            CHECK(got < capacity);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            break;
        }
    }
    test_loop_run_until_live(&L, 0, 30);
    close(fds[1]);
    answer[got] = 0;
    return answer;
}

static int count(const char* haystack, const char* needle) {
    int n = 0;
    for (const char* p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle)) n++;
    return n;
}

static void test_connection(void) {
    test_loop_init(&L, 2, 64 * 1024);
    config.idle_timeout_ms = 5000;

    /* Pipelined requests are answered in order, then the refused one closes it. */
    const char* pipelined = "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"
                            "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody"
                            "GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                            "BAD REQUEST LINE\r\n\r\n"
                            "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";
    char* answer = exchange(pipelined, strlen(pipelined));
    const char* first = strstr(answer, "HTTP/1.1 200 OK\r\nServer: aco\r\nDate: ");
    CHECK(first == answer);
    CHECK(strstr(answer, "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!HTTP/1.1 404 Not Found\r\n") != NULL);
    CHECK(strstr(answer, "Content-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!HTTP/1.1 400 Bad Request\r\n") != NULL);
    CHECK_EQ(count(answer, "HTTP/1.1 "), 4);
    CHECK(strstr(answer, "Connection: close\r\n\r\n") == answer + strlen(answer) - strlen("Connection: close\r\n\r\n"));
    free(answer);

    /* An oversized head: 431, and the rest of it is read and dropped, not reset. */
    size_t big = 64 * 1024;
    char* huge = malloc(big);
    CHECK(huge != NULL);
    memset(huge, 'h', big);
    memcpy(huge, "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Huge: ", 42);
    memcpy(huge + big - 4, "\r\n\r\n", 4);
    answer = exchange(huge, big);
    CHECK(strncmp(answer, "HTTP/1.1 431 Request Header Fields Too Large\r\n", 46) == 0);
    CHECK_EQ(count(answer, "HTTP/1.1 "), 1);
    free(answer);
    free(huge);

    /* A body over the limit: 413. Transfer-Encoding: 501. A head cut short by the client's end: no answer. */
    answer = exchange("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\nabc", 54);
    CHECK(strncmp(answer, "HTTP/1.1 413 Content Too Large\r\n", 32) == 0);
    free(answer);
    const char* chunked = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    answer = exchange(chunked, strlen(chunked));
    CHECK(strncmp(answer, "HTTP/1.1 501 Not Implemented\r\n", 30) == 0);
    free(answer);
    answer = exchange("GET /plaintext HTTP/1.1\r\nHo", 27);
    CHECK_EQ(strlen(answer), 0);
    free(answer);

    /* A request and the client's end in one go, and more pipelined requests
     * than the receive buffer holds: every one answered, then the close, long
     * before the idle timeout (nothing is left waiting for a readiness report
     * that already came). */
    config.idle_timeout_ms = 600000;
    const char* one = "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";
    answer = exchange(one, strlen(one));
    CHECK_EQ(count(answer, "HTTP/1.1 200 OK"), 1);
    free(answer);
    size_t many = 1000, one_len = strlen(one);
    char* batch = malloc(many * one_len);
    CHECK(batch != NULL);
    for (size_t i = 0; i < many; i++) memcpy(batch + i * one_len, one, one_len);
    answer = exchange(batch, many * one_len);
    CHECK_EQ(count(answer, "HTTP/1.1 200 OK"), (int)many);
    free(answer);
    free(batch);

    CHECK_EQ(L.ended_failed, 0);
    test_loop_free(&L);
}

int main(void) {
    test_valid_heads();
    test_malformed_heads_get_400();
    test_limits();
    test_random_input();
    test_connection();
    /* The counts saw every answer the connections sent (parsing alone counts nothing). */
    CHECK_EQ(aco_http_responses(S200), 1003);
    CHECK_EQ(aco_http_responses(S404), 1);
    CHECK_EQ(aco_http_responses(S400), 1);
    CHECK_EQ(aco_http_responses(S431), 1);
    CHECK_EQ(aco_http_responses(S413), 1);
    CHECK_EQ(aco_http_responses(S501), 1);
    /* Thread-local pools and the connection table live as long as the thread. */
    free(T.state);
    buffer_pool* pools[] = {&T.receive_pool, &T.send_pool};
    for (int i = 0; i < 2; i++) {
        CHECK(pools[i]->count <= POOL_KEEP);
        while (pools[i]->first != NULL) {
            free_buffer* b = pools[i]->first;
            pools[i]->first = b->next;
            free(b);
        }
    }
    puts("test_http_server: ok");
    return 0;
}
