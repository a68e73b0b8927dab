/* Escaping for log text: see escape.h. */
#include "util/escape.h"

size_t ptd_escape(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	unsigned char c;

	if (!size)
		return 0;
	for (; (c = (unsigned char) *src); src++) {
		if (c >= 0x20 && c != 0x7f) {
			if (n + 1 >= size)
				break;
			dst[n++] = (char) c;
			continue;
		}
		if (n + 4 >= size)
			break;
		dst[n++] = '\\';
		dst[n++] = 'x';
		dst[n++] = hex[c >> 4];
		dst[n++] = hex[c & 15];
	}
	dst[n] = '\0';
	return n;
}
