#ifndef BACKGROUNDJOBS_CHIREDIS_SHIM_H
#define BACKGROUNDJOBS_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>

#endif
