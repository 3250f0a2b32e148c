/* An entry function that returns instead of calling aco_exit(): the default
 * last word aborts with a message, a custom handler runs, and the "return
 * means exit" option ends the coroutine cleanly. */
#include "aco_test.h"

static void returning_entry(void) { *(int*)aco_get_arg() += 1; }

static void run_one_returning_coroutine(void) {
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s = aco_share_stack_new(0);
    int ran = 0;
    aco_t* co = aco_create(main_co, s, 0, returning_entry, &ran);
    aco_resume(co);
    _exit(3); /* not reached: the last word does not return to main */
}

static void default_last_word_child(void) {
    aco_thread_init(NULL);
    run_one_returning_coroutine();
}

static void custom_last_word(void) {
    aco_t* co = aco_get_co();
    fprintf(stderr, "custom last word: arg=%d fp_ok=%d\n", *(int*)co->arg,
            co->fp == returning_entry);
    _exit(42);
}

static void custom_last_word_child(void) {
    aco_thread_init(custom_last_word);
    run_one_returning_coroutine();
}

static void return_means_exit_in_process(void) {
    aco_set_return_means_exit(1);
    CHECK(aco_get_return_means_exit());
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s = aco_share_stack_new(0);
    int ran = 0;
    aco_t* cos[3];
    for (int i = 0; i < 3; i++) cos[i] = aco_create(main_co, s, 0, returning_entry, &ran);
    for (int i = 0; i < 3; i++) {
        aco_resume(cos[i]);
        CHECK(cos[i]->is_end);
        CHECK(s->owner == NULL);
    }
    CHECK_EQ(ran, 3);
    for (int i = 0; i < 3; i++) aco_destroy(cos[i]);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
    aco_set_return_means_exit(0);
    CHECK(!aco_get_return_means_exit());
}

int main(void) {
    char err[4096];
    int status = test_run_child(default_last_word_child, err, sizeof err);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CHECK(strstr(err, "instead of calling aco_exit()") != NULL);

    status = test_run_child(custom_last_word_child, err, sizeof err);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
    CHECK(strstr(err, "custom last word: arg=1 fp_ok=1") != NULL);

    aco_thread_init(NULL);
    CHECK(!aco_get_return_means_exit()); /* libaco's behaviour by default */
    return_means_exit_in_process();
    test_check_counters_zero();
    puts("last_word: ok");
    return 0;
}
