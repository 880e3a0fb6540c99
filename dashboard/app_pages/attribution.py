"""Placeholder until the page lands."""

import streamlit as st

st.title("attribution")
st.info("This page is being built.")
