#include "cli/exitcode.h"

#include <sysexits.h>

int
nl_exitcode(enum nl_errkind kind)
{
	switch (kind) {
	case NL_OK:		return EX_OK;
	case NL_EUSAGE:		return EX_USAGE;
	case NL_EDATA:		return EX_DATAERR;
	case NL_ENOINPUT:	return EX_NOINPUT;
	case NL_EUNAVAIL:	return EX_UNAVAILABLE;
	case NL_ECANTCREAT:	return EX_CANTCREAT;
	case NL_ETEMPFAIL:	return EX_TEMPFAIL;
	case NL_EPERMFAIL:	return 1;	/* nlsend(1): 5xx, nothing to retry */
	case NL_ECONFIG:	return EX_CONFIG;
	case NL_EIO:		return EX_IOERR;
	case NL_ENOMEM:		return EX_OSERR;
	case NL_EINTERNAL:	return EX_SOFTWARE;
	}
	return EX_SOFTWARE;
}
