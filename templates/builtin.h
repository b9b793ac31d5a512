/* The built-in templates, compiled in from templates/default/ by
 * tools/embed.c (see Makefile). */
#ifndef NL_BUILTIN_H
#define NL_BUILTIN_H

extern const char builtin_html[];
extern const unsigned long builtin_html_len;
extern const char builtin_text[];
extern const unsigned long builtin_text_len;

#endif
