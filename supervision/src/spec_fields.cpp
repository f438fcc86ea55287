// SPDX-License-Identifier: Apache-2.0
// The check that the field tables list every member of their structs.
#include "vigil/supervision/spec_fields.hpp"

namespace vigil::supervision {
namespace {

// A table must list every member: these bindings stop compiling when a member is added to a
// struct, and the assertions when its table's length differs. Add the field to both.
[[maybe_unused]] void members_of(const child_spec& c, const supervisor_spec& s,
                                 const os_process_spec& os, const backoff_policy& b,
                                 const resource_limit& r, const probe_spec& p,
                                 const cgroup_limits& l) {
  [[maybe_unused]] const auto& [c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15,
                                c16] = c;
  [[maybe_unused]] const auto& [s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12] = s;
  [[maybe_unused]] const auto& [o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12] = os;
  [[maybe_unused]] const auto& [l1, l2, l3, l4] = l;
  [[maybe_unused]] const auto& [p1, p2, p3, p4, p5, p6, p7] = p;
  [[maybe_unused]] const auto& [b1, b2, b3, b4, b5, b6] = b;
  [[maybe_unused]] const auto& [r1, r2] = r;
}

template <class T>
constexpr std::size_t table_size = std::tuple_size_v<decltype(spec_table<T>::fields)>;
static_assert(table_size<child_spec> == 16);
static_assert(table_size<supervisor_spec> == 12);
static_assert(table_size<os_process_spec> == 12);
static_assert(table_size<cgroup_limits> == 4);
static_assert(table_size<backoff_policy> == 6);
static_assert(table_size<resource_limit> == 2);
static_assert(table_size<probe_spec> == 7);

} // namespace

} // namespace vigil::supervision
