// Kaiwu's version.
#pragma once
#define KAIWU_VERSION_STRING "0.1.0"
