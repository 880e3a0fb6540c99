"""Placeholder until the page lands."""

import streamlit as st

st.title("ablation")
st.info("This page is being built.")
