// The address watch ends its wait when the agent stops (the certificate thread must not hold up
// a shutdown) and otherwise waits out its time. Address changes themselves are seen in
// tests/integration/https_page_test.cpp, in a network namespace of their own.
#include "platform/address_watch.hpp"

#include <gtest/gtest.h>
#include <thread>

using tracklight::platform::AddressWatch;

TEST(AddressWatch, StopEndsAWaitAtOnceAndEveryLaterOne) {
  AddressWatch watch;
  AddressWatch::Event seen = AddressWatch::Event::Changed;
  std::thread waiter([&] {
    // Any other news on this machine's routing may end a wait early; a stop is what ends it here.
    do seen = watch.wait(20000);
    while (seen != AddressWatch::Event::Stopped && seen != AddressWatch::Event::TimedOut);
  });
  watch.stop();
  waiter.join();
  EXPECT_EQ(seen, AddressWatch::Event::Stopped);
  EXPECT_EQ(watch.wait(20000), AddressWatch::Event::Stopped);
}

TEST(AddressWatch, TheKernelsAddressEventsAreSubscribed) {
  AddressWatch watch;
  EXPECT_TRUE(watch.watching()) << "no rtnetlink socket: address changes would go unseen";
}
