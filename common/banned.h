/*
 * banned.h: functions this project never calls (after git's banned.h).
 * They either overflow silently or hide parse errors; use buf_* and
 * strtol/strtoul with end-pointer checks instead.
 */
#ifndef NP_BANNED_H
#define NP_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef system
#define system(x) BANNED(system)
#undef popen
#define popen(x, y) BANNED(popen)

#endif
