/* fuzz_config.c - the INI configuration (config/) and every source kind's
 * checks of its own section
 *
 * Loads the input as config text; when it loads, opens each configured
 * source as `earshot serve` would before polling (which validates what
 * the config layer leaves to the kind), then frees it all. A rejected
 * config must say where: its message names the file and line.
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/source.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct es_config *cfg;
    if (es_config_load_string(&cfg, text, "fuzz.conf") != 0) {
        const char *msg = es_error_last();
        fuzz_check(msg && strncmp(msg, "fuzz.conf", 9) == 0,
                   "a config error names the file");
        free(text);
        return 0;
    }
    for (size_t i = 0; i < es_config_source_count(cfg); i++) {
        struct es_source *src;
        if (es_source_open(&src, es_config_source_at(cfg, i)) == 0)
            es_source_free(src);
    }
    es_config_free(cfg);
    free(text);
    return 0;
}
