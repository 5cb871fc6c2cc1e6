"""The Share behaviour tests that make sense for both backends, run on the local Share and on Redis.

The test functions are the ones of ``test_share_basic`` (imported, not copied); the ``share`` fixture
of this module hands each of them a local ``Share()`` and a ``Share(backend=<redis url>, name=...)``.
Left out there: what only a coordinator has (start/stop, auto_start, the owner, segments and
sockets, writes that do not wait).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_share_basic import (
    test_a_view_used_elsewhere_is_a_plain_value,
    test_clear_removes_everything,
    test_dict_proxy_behaves_like_a_dict,
    test_in_place_operators_on_numbers_and_strings,
    test_item_and_object_plus_equal_see_queued_creations,
    test_iterator_hands_out_each_value_once,
    test_large_values_and_growth,
    test_list_proxy_behaves_like_a_list,
    test_missing_and_deleted_attributes,
    test_multiprocessing_objects_are_rejected_with_the_attribute_name,
    test_pickled_share_carries_connection_info_only,
    test_plain_values_round_trip,
    test_plus_equal_right_after_recreating_a_deleted_attribute,
    test_plus_equal_then_read_sees_every_increment,
    test_reads_its_own_writes_every_time,
    test_repr_and_dir,
    test_reserved_names,
    test_set_proxy,
    test_share_travels_through_cucumber,
    test_shared_memory_and_os_pipe_files_are_rejected,
    test_threads_never_lose_an_update,
)

from suitkaise_processing import Share

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["local", "redis"])
def share(request: pytest.FixtureRequest) -> Iterator[Share]:
    if request.param == "local":
        s = Share()
        try:
            yield s
        finally:
            s.stop()
        return
    pytest.importorskip(
        "redis", reason="redis-py is missing: pip install 'suitkaise-processing[redis]'"
    )
    url = request.getfixturevalue("redis_url")
    s = Share(backend=url, name="backends")
    try:
        yield s
    finally:
        s.clear()


__all__ = [
    "test_a_view_used_elsewhere_is_a_plain_value",
    "test_clear_removes_everything",
    "test_dict_proxy_behaves_like_a_dict",
    "test_in_place_operators_on_numbers_and_strings",
    "test_item_and_object_plus_equal_see_queued_creations",
    "test_iterator_hands_out_each_value_once",
    "test_large_values_and_growth",
    "test_list_proxy_behaves_like_a_list",
    "test_missing_and_deleted_attributes",
    "test_multiprocessing_objects_are_rejected_with_the_attribute_name",
    "test_pickled_share_carries_connection_info_only",
    "test_plain_values_round_trip",
    "test_plus_equal_right_after_recreating_a_deleted_attribute",
    "test_plus_equal_then_read_sees_every_increment",
    "test_reads_its_own_writes_every_time",
    "test_repr_and_dir",
    "test_reserved_names",
    "test_set_proxy",
    "test_share_travels_through_cucumber",
    "test_shared_memory_and_os_pipe_files_are_rejected",
    "test_threads_never_lose_an_update",
]
